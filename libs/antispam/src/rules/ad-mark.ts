import type { Rule } from "./rule.ts";

/**
 * Japanese law (the Specified Electronic Mail Act, 2002) and Korean law require unsolicited
 * advertising mail to say so at the start of its subject: 未承諾広告 ("unsolicited advertisement")
 * and (광고) ("advertisement"). The sender itself declares the message unsolicited bulk mail.
 */
const MARK = /^\s*(?:[[(【〔［（]?\s*未承諾広告|[[(【〔［（]\s*광\s*고\s*[\])】〕］）])/;

export const adMarkRule: Rule = {
  name: "ad-mark",
  check({ content }) {
    return MARK.test(content.parsed.subject ?? "") ? [{ name: "SUBJECT_AD_MARK" }] : [];
  },
};
