/**
 * A small, fast HTML-to-text for the tokenizer: drops comments, <script>, <style> and <head>
 * content, turns every tag into a space, decodes the common entities. It also collects the link
 * targets (href/src) and the tag names, which are features of their own. Not a renderer: hidden
 * text stays (spammers' hidden "salad" is a feature too).
 */
import type { ContentView } from "../message.ts";

export interface StrippedHtml {
  text: string;
  urls: string[];
  tags: string[];
}

const DROP_BLOCKS = /<!--[\s\S]*?-->|<(script|style|head)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const TAG = /<\/?([a-zA-Z][a-zA-Z0-9]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
const LINK_ATTR = /\b(?:href|src|action)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi;
const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi;

const NAMED: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", copy: "©", reg: "®", trade: "™",
  euro: "€", pound: "£", yen: "¥", cent: "¢", eacute: "é", egrave: "è", agrave: "à", uuml: "ü",
  ouml: "ö", auml: "ä", szlig: "ß", ccedil: "ç", ntilde: "ñ", mdash: "—", ndash: "–", hellip: "…",
  laquo: "«", raquo: "»", bull: "•", middot: "·", rsquo: "’", lsquo: "‘", rdquo: "”", ldquo: "“",
};

export function decodeEntities(text: string): string {
  if (!text.includes("&")) return text;
  return text.replace(ENTITY, (whole, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : " ";
    }
    return NAMED[name.toLowerCase()] ?? whole;
  });
}

export function stripHtml(html: string): StrippedHtml {
  const urls: string[] = [];
  const tags = new Set<string>();
  const text = html.replace(DROP_BLOCKS, " ").replace(TAG, (_whole, name: string, attrs: string) => {
    tags.add(name.toLowerCase());
    if (attrs) {
      for (const m of attrs.matchAll(LINK_ATTR)) {
        const value = m[1] ?? m[2] ?? m[3];
        if (value) urls.push(decodeEntities(value));
      }
    }
    return " ";
  });
  return { text: decodeEntities(text), urls, tags: [...tags] };
}

const stripped = new WeakMap<ContentView, Map<number, StrippedHtml>>();

/** stripHtml of a message's HTML part(s), its first `maxChars` characters; once per content view and limit (the tokenizer and the body rules share it). */
export function strippedHtmlOf(content: ContentView, maxChars: number): StrippedHtml | null {
  const html = content.parsed.html;
  if (typeof html !== "string" || !html) return null;
  let byLimit = stripped.get(content);
  if (!byLimit) stripped.set(content, (byLimit = new Map()));
  let result = byLimit.get(maxChars);
  if (!result) byLimit.set(maxChars, (result = stripHtml(html.slice(0, maxChars))));
  return result;
}
