import type { Rule } from "./rule.ts";

/**
 * Laws that require unsolicited advertising mail to say so at the start of its subject: "ADV:"
 * (several US states before CAN-SPAM, and the FTC's proposed label), 未承諾広告 ("unsolicited
 * advertisement", Japan's Specified Electronic Mail Act, 2002) and (광고) ("advertisement", Korea).
 * The sender itself declares the message unsolicited bulk mail.
 */
const MARK = /^\s*(?:\[ADV\]|ADV\s*:|ADV\s+-|[[(【〔［（]?\s*未承諾広告|[[(【〔［（]\s*광\s*고\s*[\])】〕］）])/;

export const adMarkRule: Rule = {
  name: "ad-mark",
  check({ content }) {
    return MARK.test(content.parsed.subject ?? "") ? [{ name: "SUBJECT_AD_MARK" }] : [];
  },
};
