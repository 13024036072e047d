import { htmlLinks, httpHost } from "./body-text.ts";
import { fromDomain, organizationalDomain } from "./address.ts";
import type { Rule } from "./rule.ts";

const COPYRIGHT = /&copy;|&#169;|©|\bcopyright\b/i;

/**
 * A publisher's newsletter signs with its copyright notice and links back to its own site, the
 * domain its From address is in. Bulk mail with a borrowed or throw-away From links elsewhere.
 */
export const signedNewsletterRule: Rule = {
  name: "signed-newsletter",
  check({ content }) {
    const html = content.parsed.html;
    if (!html || !COPYRIGHT.test(html)) return [];
    const from = fromDomain(content.parsed.from);
    if (!from) return [];
    const org = organizationalDomain(from);
    const home = htmlLinks(content).find((url) => {
      const host = httpHost(url);
      return host !== null && organizationalDomain(host) === org;
    });
    return home ? [{ name: "NEWSLETTER_SIGNED", detail: org }] : [];
  },
};
