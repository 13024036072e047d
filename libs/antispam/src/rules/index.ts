import type { Rule } from "./rule.ts";
import { adMarkRule } from "./ad-mark.ts";
import { adultContentRule } from "./adult-content.ts";
import { advanceFeeRule } from "./advance-fee.ts";
import { spamPhrasesRule } from "./spam-phrases.ts";
import { attachmentsRule } from "./attachments.ts";
import { authenticationRule } from "./authentication.ts";
import { dateFormatRule } from "./date-format.ts";
import { dateFutureRule } from "./date-future.ts";
import { dnsblRule } from "./dnsbl.ts";
import { fromInvalidRule } from "./from-invalid.ts";
import { headerCaseRule } from "./header-case.ts";
import { heloIpMismatchRule } from "./helo-ip-mismatch.ts";
import { htmlFontRule } from "./html-font.ts";
import { htmlOnlyRule } from "./html-only.ts";
import { missingHeadersRule } from "./missing-headers.ts";
import { numericLinkRule } from "./numeric-link.ts";
import { outlookMessageIdRule } from "./outlook-message-id.ts";
import { forgedMuaRule } from "./forged-mua.ts";
import { freemailForgedRule } from "./freemail-forged.ts";
import { providerHeloRule } from "./provider-helo.ts";
import { raw8bitHeaderRule } from "./raw-8bit-header.ts";
import { randomTailRule } from "./random-tail.ts";
import { relayMessageIdRule } from "./relay-message-id.ts";
import { receivedDateRule } from "./received-date.ts";
import { replyToMismatchRule } from "./reply-to-mismatch.ts";
import { reverseDnsRule } from "./reverse-dns.ts";
import { sessionSymbolsRule } from "./session-symbols.ts";
import { signedNewsletterRule } from "./signed-newsletter.ts";
import { stockPromotionRule } from "./stock-promotion.ts";
import { subjectPaddingRule } from "./subject-padding.ts";
import { subjectShoutingRule } from "./subject-shouting.ts";
import { undeclared8bitRule } from "./undeclared-8bit.ts";
import { urlMismatchRule } from "./url-mismatch.ts";

export type { Rule, RuleContext, RuleHit, Source } from "./rule.ts";

export const defaultRules: Rule[] = [
  missingHeadersRule,
  dateFormatRule,
  dateFutureRule,
  fromInvalidRule,
  replyToMismatchRule,
  subjectShoutingRule,
  subjectPaddingRule,
  adMarkRule,
  outlookMessageIdRule,
  relayMessageIdRule,
  forgedMuaRule,
  freemailForgedRule,
  heloIpMismatchRule,
  providerHeloRule,
  receivedDateRule,
  headerCaseRule,
  raw8bitHeaderRule,
  undeclared8bitRule,
  htmlOnlyRule,
  htmlFontRule,
  signedNewsletterRule,
  urlMismatchRule,
  numericLinkRule,
  advanceFeeRule,
  spamPhrasesRule,
  stockPromotionRule,
  adultContentRule,
  randomTailRule,
  attachmentsRule,
  dnsblRule,
  reverseDnsRule,
  authenticationRule,
  sessionSymbolsRule,
];

export {
  adMarkRule,
  adultContentRule,
  advanceFeeRule,
  attachmentsRule,
  authenticationRule,
  dateFormatRule,
  dateFutureRule,
  dnsblRule,
  forgedMuaRule,
  freemailForgedRule,
  fromInvalidRule,
  headerCaseRule,
  heloIpMismatchRule,
  htmlFontRule,
  htmlOnlyRule,
  missingHeadersRule,
  numericLinkRule,
  outlookMessageIdRule,
  providerHeloRule,
  randomTailRule,
  raw8bitHeaderRule,
  receivedDateRule,
  relayMessageIdRule,
  replyToMismatchRule,
  reverseDnsRule,
  sessionSymbolsRule,
  spamPhrasesRule,
  stockPromotionRule,
  subjectPaddingRule,
  subjectShoutingRule,
  undeclared8bitRule,
  urlMismatchRule,
};
