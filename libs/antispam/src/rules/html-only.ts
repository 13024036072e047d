import type { Rule } from "./rule.ts";

const HTML_ELEMENT = /<html\b/i;
const TITLE = /<title\b[^>]*>\s*[^<\s]/i;

/**
 * HTML with no text/plain alternative (the parser is told not to derive text from HTML). Mail
 * programs that write HTML-only mail write a whole document; bulk software often sends a
 * fragment without the <html> element. Newsletter and notice templates carry a <title>; an
 * HTML-only message without one is the untitled kind bulk tools send (HTML_NO_TITLE), so a titled
 * one gets less for being HTML alone (docs/spam-benchmark.md stage 18).
 */
export const htmlOnlyRule: Rule = {
  name: "html-only",
  check({ content }) {
    const { html, text } = content.parsed;
    if (!html || text?.trim()) return [];
    return [
      { name: "MIME_HTML_ONLY" },
      ...(HTML_ELEMENT.test(html) ? [] : [{ name: "HTML_NO_HTML_TAG" }]),
      ...(TITLE.test(html) ? [] : [{ name: "HTML_NO_TITLE" }]),
    ];
  },
};
