import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * The stock phrases of bulk advertising, by kind: "this is not spam", removal instructions, "you
 * are receiving this because", guarantees, urgency, income schemes, credit and mortgage offers,
 * health products, "Dear friend", bulk mailing, free offers, "click here". Legitimate newsletters
 * use one or two kinds ("click here", a free trial); the rule fires from three kinds in one
 * message, and more for four or more. SpamAssassin's body rules score the same phrases one by one.
 */
const KINDS: RegExp[] = [
  /\bthis (?:e-?mail |message )?is not (?:spam|unsolicited)|\bnot (?:considered )?spam\b|\bs\.?\s?1618\b/i,
  /\b(?:to be|to get) removed\b|\bremove(?:d)? from (?:our|this|my|the) (?:mailing |e-?mail )?list|\breply with "?remove"?|\bwith (?:the word )?"?remove"? in the subject/i,
  /\byou (?:are|were) receiving this (?:e-?mail|message) because|\byour (?:e-?mail )?address was (?:obtained|collected)|\bopted? in\b.{0,40}\b(?:partner|third part)/i,
  /\b100\s?% (?:guaranteed|free|satisf|legal|risk)|\brisk[- ]free\b|\bmoney[- ]back guarantee|\bno (?:obligation|risk)\b/i,
  /\bact now\b|\border (?:now|today)\b|\blimited time (?:only|offer)|\bdon'?t (?:delay|miss out)|\bcall (?:now|today|toll[- ]free)/i,
  /\b(?:extra|residual|additional|passive) income\b|\bwork (?:from|at) home\b|\bbe your own boss\b|\bfinancial (?:freedom|independence)\b|\bearn (?:up to )?\$\s?\d/i,
  /\b(?:debt|credit) (?:consolidation|repair|problems)|\b(?:mortgage|refinanc\w*|home loan)\b.{0,60}\brates?\b|\blowest (?:rates?|prices?)\b/i,
  /\b(?:lose weight|weight loss|viagra|herbal|penis|enlarge\w*|anti-?aging|hgh)\b/i,
  /^\s*(?:dear (?:friend|sir\/madam|internet user|valued customer)|greetings)\b/im,
  /\bbulk (?:e-?mail|mail(?:ing|er))|\bmillions? of (?:e-?mail )?addresses|\bemail marketing\b/i,
  /\bfree (?:gift|trial|offer|money|membership|quote|info(?:rmation)?|cd|software|access)\b|\babsolutely free\b/i,
  /\bclick (?:here|below|the link)\b/i,
];

export const spamPhrasesRule: Rule = {
  name: "spam-phrases",
  check({ content }) {
    const text = bodyText(content);
    const kinds = KINDS.filter((re) => re.test(text)).length;
    if (kinds >= 4) return [{ name: "SPAM_PHRASES_MANY", detail: `${kinds} kinds` }];
    return kinds === 3 ? [{ name: "SPAM_PHRASES", detail: "3 kinds" }] : [];
  },
};
