import { bodyText } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * A "hash buster": bulk mail that ends in a line of random letters, different in every copy, so
 * that checksum-based filters see each copy as a new message. A person's last line is not twenty
 * or more letters without a space or a mark.
 */
const RANDOM_LINE = /^[a-z]{20,}$/;

export const randomTailRule: Rule = {
  name: "random-tail",
  check({ content }) {
    const text = bodyText(content).trimEnd();
    const last = text.slice(text.lastIndexOf("\n") + 1).trim();
    return RANDOM_LINE.test(last) ? [{ name: "BODY_RANDOM_TAIL", detail: last.slice(0, 40) }] : [];
  },
};
