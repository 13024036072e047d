import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * Pornographic advertising: three or more different explicit terms in the subject and text. One or
 * two turn up in ordinary mail (a news story, a joke, a filter discussion); three different ones
 * are an advertisement's vocabulary.
 */
const TERMS =
  /\b(?:porn\w*|xxx|hardcore|horny|nude|naked|erotic\w*|sluts?|lesbians?|webcams?|teens|pussy|cumshots?|sexually|sexy?|hot (?:girls|babes)|adult (?:site|content|entertainment|dvds?|videos?)|live (?:girls|sex)|erotik|sexkontakt\w*)\b/gi;
const ENOUGH = 3;

export const adultContentRule: Rule = {
  name: "adult-content",
  check({ content }) {
    const text = `${content.parsed.subject ?? ""}\n${bodyText(content)}`;
    const distinct = new Set((text.match(TERMS) ?? []).map((term) => term.toLowerCase()));
    return distinct.size >= ENOUGH ? [{ name: "ADULT_CONTENT", detail: [...distinct].slice(0, 5).join(",") }] : [];
  },
};
