import type { Rule } from "./rule.ts";
import { advanceFeeRule } from "./advance-fee.ts";
import { spamPhrasesRule } from "./spam-phrases.ts";
import { attachmentsRule } from "./attachments.ts";
import { authenticationRule } from "./authentication.ts";
import { dnsblRule } from "./dnsbl.ts";
import { fromInvalidRule } from "./from-invalid.ts";
import { htmlOnlyRule } from "./html-only.ts";
import { missingHeadersRule } from "./missing-headers.ts";
import { replyToMismatchRule } from "./reply-to-mismatch.ts";
import { reverseDnsRule } from "./reverse-dns.ts";
import { sessionSymbolsRule } from "./session-symbols.ts";
import { subjectShoutingRule } from "./subject-shouting.ts";
import { urlMismatchRule } from "./url-mismatch.ts";

export type { Rule, RuleContext, RuleHit, Source } from "./rule.ts";

export const defaultRules: Rule[] = [
  missingHeadersRule,
  fromInvalidRule,
  replyToMismatchRule,
  subjectShoutingRule,
  htmlOnlyRule,
  urlMismatchRule,
  advanceFeeRule,
  spamPhrasesRule,
  attachmentsRule,
  dnsblRule,
  reverseDnsRule,
  authenticationRule,
  sessionSymbolsRule,
];

export {
  advanceFeeRule,
  attachmentsRule,
  authenticationRule,
  dnsblRule,
  fromInvalidRule,
  htmlOnlyRule,
  missingHeadersRule,
  replyToMismatchRule,
  reverseDnsRule,
  sessionSymbolsRule,
  spamPhrasesRule,
  subjectShoutingRule,
  urlMismatchRule,
};
