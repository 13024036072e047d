import type { Rule } from "./rule.ts";

/** HTML with no text/plain alternative (the parser is told not to derive text from HTML). */
export const htmlOnlyRule: Rule = {
  name: "html-only",
  check({ content }) {
    const { html, text } = content.parsed;
    return html && !text?.trim() ? [{ name: "MIME_HTML_ONLY" }] : [];
  },
};
