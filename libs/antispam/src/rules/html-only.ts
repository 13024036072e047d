import type { Rule } from "./rule.ts";

/**
 * HTML with no text/plain alternative (the parser is told not to derive text from HTML). Mail
 * programs that write HTML-only mail write a whole document; bulk software often sends a
 * fragment without the <html> element.
 */
export const htmlOnlyRule: Rule = {
  name: "html-only",
  check({ content }) {
    const { html, text } = content.parsed;
    if (!html || text?.trim()) return [];
    return [{ name: "MIME_HTML_ONLY" }, ...(/<html\b/i.test(html) ? [] : [{ name: "HTML_NO_HTML_TAG" }])];
  },
};
