import { parse as parseDomain } from "tldts";
import { fromDomain, organizationalDomain } from "./address.ts";
import { httpHost } from "./body-text.ts";
import type { Rule } from "./rule.ts";

const ANCHOR = /<a\b([^>]*)>([\s\S]*?)<\/a\s*>/gi;
const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i;
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/)?((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9])(?::\d+)?(?:[/?#]\S*)?$/i;
const MAX_ANCHORS = 500;

/**
 * Link text that reads as a URL or domain of one site while the link goes to another (phishing).
 * A link into the From address's own organizational domain is the sender's click tracking, not a
 * disguise: the reader goes where the message says it comes from. Newsletters do that with every
 * link (all 16 hits on the spam benchmark's TRAIN hard ham; docs/spam-benchmark.md stage 11).
 */
export const urlMismatchRule: Rule = {
  name: "url-mismatch",
  check({ content }) {
    const html = content.parsed.html;
    if (!html) return [];
    const sender = fromDomain(content.parsed.from);
    const senderOrg = sender ? organizationalDomain(sender) : null;
    let count = 0;
    for (const match of html.matchAll(ANCHOR)) {
      if (++count > MAX_ANCHORS) break;
      const href = hrefOf(match[1] ?? "");
      const text = decodeEntities((match[2] ?? "").replace(/<[^>]*>/g, "")).trim();
      const hrefHost = href ? httpHost(href) : null;
      const textHost = URL_LIKE.exec(text)?.[1]?.toLowerCase();
      if (!hrefHost || !textHost || !isRealDomain(textHost)) continue;
      const hrefOrg = organizationalDomain(hrefHost);
      if (hrefOrg !== senderOrg && organizationalDomain(textHost) !== hrefOrg) {
        return [{ name: "URL_TEXT_MISMATCH", detail: `${textHost} -> ${hrefHost}` }];
      }
    }
    return [];
  },
};

function hrefOf(attributes: string): string | null {
  const m = HREF.exec(attributes);
  const value = m?.[1] ?? m?.[2] ?? m?.[3];
  return value === undefined ? null : decodeEntities(value).trim();
}

/** Only text ending in a known public suffix counts ("click.here" is not a domain claim). */
function isRealDomain(host: string): boolean {
  const info = parseDomain(host, { allowPrivateDomains: true });
  return Boolean(info.domain) && (info.isIcann === true || info.isPrivate === true);
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&nbsp;/gi, " ")
    .replace(/&lt;/gi, "<")
    .replace(/&gt;/gi, ">")
    .replace(/&quot;/gi, '"')
    .replace(/&amp;/gi, "&");
}
