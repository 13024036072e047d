import type { Action } from "./thresholds.ts";

export interface SymbolDefinition {
  score: number;
  description: string;
  /** The verdict is at least this action whatever the score (e.g. DMARC p=reject). */
  minAction?: Action;
}

/**
 * The scores of every symbol the rules can emit. Positive scores are spam evidence, negative ones
 * evidence of legitimate mail. More rules (e.g. Bayes, reputation) add their symbols here or through
 * the classifier's `symbols` option.
 */
export const defaultSymbols: Record<string, SymbolDefinition> = {
  // Headers
  MISSING_DATE: { score: 1.0, description: "No Date header" },
  MISSING_MESSAGE_ID: { score: 1.5, description: "No Message-ID header" },
  FROM_INVALID: { score: 3.0, description: "From header missing, not a single valid address, or repeated" },
  REPLYTO_DOMAIN_MISMATCH: { score: 2.0, description: "Reply-To points to another organizational domain than From" },
  SUBJECT_SHOUTING: { score: 1.5, description: "Subject is mostly upper case" },
  // Body
  MIME_HTML_ONLY: { score: 1.0, description: "HTML body without a text/plain alternative" },
  URL_TEXT_MISMATCH: { score: 4.0, description: "Link text shows a domain other than the link's target" },
  EXECUTABLE_ATTACHMENT: { score: 8.0, description: "Executable or script attachment" },
  MACRO_ATTACHMENT: { score: 4.0, description: "Office document with macros attached" },
  // Connection
  RBL_LISTED: { score: 7.0, description: "Client address listed on a DNSBL zone" },
  RDNS_NONE: { score: 1.5, description: "Client address has no reverse DNS (PTR)" },
  RDNS_NOT_CONFIRMED: { score: 1.0, description: "Client's PTR name does not resolve back to the address" },
  EARLY_TALKER: { score: 3.0, description: "Client talked before the greeting (from the SMTP session)" },
  // Authentication
  SPF_PASS: { score: -0.5, description: "SPF pass" },
  SPF_FAIL: { score: 2.5, description: "SPF fail (-all)" },
  SPF_SOFTFAIL: { score: 1.0, description: "SPF softfail (~all)" },
  DKIM_PASS: { score: -0.5, description: "A valid DKIM signature" },
  DKIM_FAIL: { score: 2.0, description: "A DKIM signature that does not verify" },
  DMARC_PASS: { score: -1.0, description: "DMARC pass" },
  DMARC_REJECT: { score: 8.0, description: "DMARC fail, policy reject", minAction: "reject" },
  DMARC_QUARANTINE: { score: 4.0, description: "DMARC fail, policy quarantine", minAction: "junk" },
  DMARC_FAIL_NONE: { score: 1.0, description: "DMARC fail, policy none" },
  ARC_PASS: { score: 0, description: "ARC chain valid (informational: the sealers are not trusted)" },
  ARC_FAIL: { score: 1.0, description: "ARC chain broken" },
};

/** A symbol no definition names (e.g. a new session symbol) scores this. */
export const UNKNOWN_SYMBOL_SCORE = 0;
