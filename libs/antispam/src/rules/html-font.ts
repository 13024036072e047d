import type { Rule } from "./rule.ts";

/**
 * HTML whose <font size> reaches 6 or 7 (about 24–36 pt: headline type in the body). Sizes are
 * 1–7; "+n" and "-n" are relative to the default 3.
 */
const FONT_SIZE = /<font\b[^>]*?\bsize\s*=\s*["']?\s*([+-]?)(\d+)/gi;
const HUGE = 6;

function largestFontSize(html: string): number {
  let largest = 0;
  for (const [, sign, digits] of html.matchAll(FONT_SIZE)) {
    const n = Number(digits);
    largest = Math.max(largest, sign === "+" ? 3 + n : sign === "-" ? 3 - n : n);
  }
  return largest;
}

export const htmlFontRule: Rule = {
  name: "html-font",
  check({ content }) {
    const { html } = content.parsed;
    return html && largestFontSize(html) >= HUGE ? [{ name: "HTML_FONT_HUGE" }] : [];
  },
};
