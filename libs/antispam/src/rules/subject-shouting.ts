import type { Rule } from "./rule.ts";

const MIN_LETTERS = 8;
const UPPER_SHARE = 0.75;

/** A subject whose cased letters are mostly upper case ("FREE MONEY NOW"). */
export const subjectShoutingRule: Rule = {
  name: "subject-shouting",
  check({ content }) {
    const subject = content.parsed.subject ?? "";
    let upper = 0;
    let cased = 0;
    for (const ch of subject) {
      const lower = ch.toLowerCase();
      const up = ch.toUpperCase();
      if (lower === up) continue; // not a cased letter
      cased++;
      if (ch === up) upper++;
    }
    return cased >= MIN_LETTERS && upper / cased >= UPPER_SHARE ? [{ name: "SUBJECT_SHOUTING" }] : [];
  },
};
