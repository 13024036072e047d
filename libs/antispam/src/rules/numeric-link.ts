import { bodyText, htmlLinks } from "./body-text.ts";
import type { Rule } from "./rule.ts";

/**
 * A link to a bare IP address instead of a host name: a web site that wants to be found again has a
 * name, one that expects to be blocklisted by name does not.
 */
const IP_LINK = /\bhttps?:\/\/(?:[^\s/@"'<>]*@)?(\d{1,3}(?:\.\d{1,3}){3})(?=[:/\s"'<>?#]|$)/i;

export const numericLinkRule: Rule = {
  name: "numeric-link",
  check({ content }) {
    for (const url of [...htmlLinks(content), bodyText(content)]) {
      const m = IP_LINK.exec(url);
      if (m) return [{ name: "URL_NUMERIC_HOST", detail: m[1] }];
    }
    return [];
  },
};
