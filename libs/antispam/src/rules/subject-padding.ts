import type { Rule } from "./rule.ts";

/**
 * A subject padded with a run of spaces before a last word, usually a random tag that makes each
 * copy unique ("Lower your rates          1784abx"): people do not type five spaces in a row.
 */
const PADDED = /\S\s{5,}\S+\s*$/;

export const subjectPaddingRule: Rule = {
  name: "subject-padding",
  check({ content }) {
    return PADDED.test(content.parsed.subject ?? "") ? [{ name: "SUBJECT_PADDED" }] : [];
  },
};
