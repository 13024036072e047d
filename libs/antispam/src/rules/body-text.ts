import { stripHtml } from "../bayes/html.ts";
import type { ContentView } from "../message.ts";

const MAX_CHARS = 100_000;
const texts = new WeakMap<ContentView, string>();

/** The message's readable text: its text parts, else its HTML turned into text (first 100,000 characters; memoized). */
export function bodyText(content: ContentView): string {
  let text = texts.get(content);
  if (text === undefined) {
    const { text: plain, html } = content.parsed;
    text = (plain?.trim() ? plain : typeof html === "string" ? stripHtml(html.slice(0, MAX_CHARS * 2)).text : "").slice(0, MAX_CHARS);
    texts.set(content, text);
  }
  return text;
}
