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
  DATE_INVALID: { score: 1.5, description: "Date field not in RFC 5322's form (no time zone, an invented layout)" },
  DATE_IN_FUTURE: { score: 1.5, description: "Date more than 12 hours after the message reached us" },
  MISSING_MESSAGE_ID: { score: 1.5, description: "No Message-ID header" },
  MISSING_MIME_VERSION: { score: 1.0, description: "An HTML or multipart body without the MIME-Version field every mail program writes" },
  FROM_INVALID: { score: 3.0, description: "From header missing, not a single valid address, or repeated" },
  REPLYTO_DOMAIN_MISMATCH: { score: 2.0, description: "Reply-To points to another organizational domain than From" },
  SUBJECT_SHOUTING: { score: 1.5, description: "Subject is mostly upper case" },
  SUBJECT_PADDED: { score: 1.5, description: "Subject with a run of five or more spaces before its last word (a per-copy tag)" },
  SUBJECT_AD_MARK: { score: 3.0, description: "Subject carries an unsolicited-advertising label that law requires (ADV:, 未承諾広告, (광고))" },
  FORGED_OUTLOOK_MSGID: { score: 2.5, description: "Message-ID in Outlook's form whose encoded time is far from the Date (bulk software copying the shape)" },
  FORGED_RECEIVED_DATE: { score: 2.0, description: "A Received field dated with a 12-hour clock, which no MTA writes (a forged relay chain)" },
  FORGED_MUA_OUTLOOK: { score: 2.0, description: "Claims Outlook or Outlook Express, or copies Outlook's Message-ID form, without the fields those programs always write" },
  FORGED_MUA_MSGID: { score: 2.0, description: "Names a mail program that writes one Message-ID form (Exchange IMS, The Bat!, Windows Eudora) but has another" },
  FORGED_FREEMAIL_RCVD: { score: 2.0, description: "From a big free-mail provider's address, but no Received field names that provider (not a reply, not a list post)" },
  HEADER_CASE_ODD: { score: 1.5, description: "A common header name in a letter case no mail program writes (MiME-Version)" },
  RCVD_HELO_IP_MISMATCH: { score: 2.0, description: "A relay's client greeted with an IP address of another network than the one it connected from" },
  FORGED_PROVIDER_HELO: { score: 2.0, description: "A relay's client greeted as a big mail provider's bare domain without that provider's reverse name" },
  NEWSLETTER_SIGNED: { score: -1.0, description: "HTML with the sender's copyright notice and a link to the From address's own domain" },
  TEXT_8BIT_UNDECLARED: { score: 1.5, description: "A text part that names no charset (US-ASCII) carries dozens of raw 8-bit bytes" },
  MSGID_FROM_RELAY: { score: 1.0, description: "Message-ID added by a relay on the way, not by the program that wrote the message" },
  HEADER_8BIT_RAW: { score: 1.5, description: "Subject or From holds raw bytes of a national charset instead of encoded words" },
  // Body
  MIME_HTML_ONLY: { score: 0.4, description: "HTML body without a text/plain alternative" },
  HTML_NO_TITLE: { score: 0.6, description: "HTML-only body without a <title>" },
  HTML_NO_HTML_TAG: { score: 1.0, description: "HTML-only body that is a fragment without the <html> element" },
  HTML_FONT_HUGE: { score: 1.0, description: "HTML font size 6 or 7 (headline type in the body)" },
  URL_TEXT_MISMATCH: { score: 4.0, description: "Link text shows a domain other than the link's target" },
  SPAM_PHRASES: { score: 1.0, description: "Three kinds of bulk-advertising stock phrases (removal, guarantees, urgency, income, ...)" },
  SPAM_PHRASES_MANY: { score: 2.5, description: "Four or more kinds of bulk-advertising stock phrases" },
  URL_NUMERIC_HOST: { score: 1.5, description: "A link to a bare IP address rather than a host name" },
  STOCK_PROMOTION: { score: 2.0, description: "Promotes an over-the-counter (OTC BB, Pink Sheets) share with a stock promoter's pitch" },
  ADULT_CONTENT: { score: 2.0, description: "Three or more different explicit terms (pornographic advertising)" },
  BODY_RANDOM_TAIL: { score: 1.5, description: "Text ends in a line of random letters or letters and digits (a hash buster)" },
  ADVANCE_FEE: { score: 4.0, description: "Reads like an advance-fee fraud letter (a large sum to move abroad, in confidence, for a share)" },
  ADVANCE_FEE_MANY: { score: 5.0, description: "Has five or more of the six ingredients of an advance-fee fraud letter" },
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
  // Reputation, allow/block lists, reply tracking (services/spam-filter/src/policy/). The REPUTATION_*
  // scores are the bounds: the rule scales them by how one-sided a sender's past verdicts are.
  REPUTATION_IP_BAD: { score: 3.0, description: "Client network (IPv4 /24, IPv6 /64) mostly sent spam before" },
  REPUTATION_IP_GOOD: { score: -1.5, description: "Client network (IPv4 /24, IPv6 /64) mostly sent legitimate mail before" },
  REPUTATION_DOMAIN_BAD: { score: 3.0, description: "Authenticated sender domain (SPF or DMARC pass) mostly sent spam before" },
  REPUTATION_DOMAIN_GOOD: { score: -2.0, description: "Authenticated sender domain (SPF or DMARC pass) mostly sent legitimate mail before" },
  REPUTATION_DKIM_BAD: { score: 2.0, description: "DKIM signing domain mostly signed spam before" },
  REPUTATION_DKIM_GOOD: { score: -1.5, description: "DKIM signing domain mostly signed legitimate mail before" },
  USER_ALLOWLIST: { score: -20, description: "Sender on the recipient account's allow list (authenticated sender, or client IP)" },
  USER_BLOCKLIST: { score: 20, description: "Sender (envelope or From) or client IP on the recipient account's block list" },
  DOMAIN_ALLOWLIST: { score: -20, description: "Sender on the recipient domain's allow list (authenticated sender, or client IP)" },
  DOMAIN_BLOCKLIST: { score: 20, description: "Sender (envelope or From) or client IP on the recipient domain's block list" },
  ALLOWLIST_UNAUTHENTICATED: { score: 0, description: "Sender matches an allow list entry but is not authenticated: the entry did not apply" },
  REPLY_TRUSTED: { score: -3.0, description: "Authenticated sender is an address the recipient account wrote to" },
  REPLY_UNVERIFIED: { score: -0.5, description: "Sender claims an address the recipient account wrote to, without authentication" },
  // --- end reputation, lists, reply tracking ---
  // --- Bayes (libs/antispam/src/bayes): the score of each hit is computed from the probability ---
  LOGREG_SPAM: { score: 0, description: "The global model's logistic regression finds the message spammy (score from the probability in the detail; ≥ 0.95 alone reaches junk)" },
  LOGREG_HAM: { score: 0, description: "The global model's logistic regression finds the message legitimate (negative score from the probability)" },
  BAYES_SPAM: { score: 0, description: "The global Bayes model's chi-square finds the message spammy (a tenth of its curve's score, from the probability in the detail)" },
  BAYES_HAM: { score: 0, description: "The global Bayes model's chi-square finds the message legitimate (a tenth of its curve's negative score)" },
  BAYES_USER_SPAM: { score: 0, description: "The account's own Bayes model (what its user taught, over the global one) finds the message more spammy than the global model" },
  BAYES_USER_HAM: { score: 0, description: "The account's own Bayes model finds the message less spammy than the global model" },
  // --- end Bayes ---
  // --- Rspamd (libs/antispam/src/rspamd.ts, when POSTLINE_RSPAMD_URL is set) ---
  RSPAMD: { score: 0, description: "Rspamd's score times POSTLINE_RSPAMD_WEIGHT (computed); the detail has Rspamd's action and its top symbols" },
  RSPAMD_REJECT: { score: 0, description: "Rspamd's action is reject and POSTLINE_RSPAMD_HONOUR_REJECT is on", minAction: "reject" },
  // --- end Rspamd ---
};

/** A symbol no definition names (e.g. a new session symbol) scores this. */
export const UNKNOWN_SYMBOL_SCORE = 0;
