import { strippedHtmlOf } from "../bayes/html.ts";
import type { ContentView } from "../message.ts";

const MAX_CHARS = 100_000;
const texts = new WeakMap<ContentView, string>();

/** The message's readable text: its text parts, else its HTML turned into text as the tokenizer does (first 100,000 characters; memoized). */
export function bodyText(content: ContentView): string {
  let text = texts.get(content);
  if (text === undefined) {
    const plain = content.parsed.text;
    text = (plain?.trim() ? plain : (strippedHtmlOf(content, MAX_CHARS * 2)?.text ?? "")).slice(0, MAX_CHARS);
    texts.set(content, text);
  }
  return text;
}

/** The link targets (href, src, action) of the message's HTML, from the same strip as bodyText. */
export function htmlLinks(content: ContentView): string[] {
  return strippedHtmlOf(content, MAX_CHARS * 2)?.urls ?? [];
}

/** The lower-case host of an http(s) URL; null for other schemes and what does not parse. */
export function httpHost(href: string): string | null {
  try {
    const url = new URL(href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.hostname.toLowerCase() : null;
  } catch {
    return null;
  }
}
