import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * A "hash buster": bulk mail that ends in a line of random characters, different in every copy, so
 * that checksum-based filters see each copy as a new message. A person's last line is not twenty
 * or more letters without a space or a mark, nor a run of mixed-case letters and digits.
 */
const RANDOM_LETTERS = /^[a-z]{20,}$/;
const RANDOM_ID = /^[A-Za-z0-9_-]{20,100}$/;

function isRandomLine(line: string): boolean {
  if (RANDOM_LETTERS.test(line)) return true;
  return RANDOM_ID.test(line) && /\d.*\d/.test(line) && /[a-z].*[a-z]/.test(line) && /[A-Z].*[A-Z]/.test(line);
}

export const randomTailRule: Rule = {
  name: "random-tail",
  check({ content }) {
    const text = bodyText(content).trimEnd();
    const last = text.slice(text.lastIndexOf("\n") + 1).trim();
    return isRandomLine(last) ? [{ name: "BODY_RANDOM_TAIL", detail: last.slice(0, 40) }] : [];
  },
};
