import { createHash } from "node:crypto";
import { getDomain } from "tldts";
import type { ContentView } from "../message.ts";
import { fromDomain, organizationalDomain } from "../rules/address.ts";
import { alignmentTokens } from "./alignment.ts";
import { strippedHtmlOf } from "./html.ts";
import { relayShapeTokens } from "./relays.ts";

/**
 * The features of a message for the Bayes classifier, as strings with a prefix naming where they
 * come from (so "free" in the subject and "free" in the body are different features):
 *
 *   s:word / b:word     words of the subject / of the decoded text and HTML-as-text bodies
 *   s2:a b / b2:a b     consecutive word pairs (bigrams) of the subject / body
 *   h:name              presence of a header (except the ones we or the MTAs add)
 *   hv:name:word        words of selected headers' values (From, Reply-To, X-Mailer, Content-Type...)
 *   u:host / ud:domain  hosts and registrable domains of the links (text and HTML)
 *   tag:name            HTML tag names
 *   a:type / ae:ext     attachments' content types and file extensions
 *   x:...               a few shape features (HTML only, no text, many links)
 *
 *   rd:domain / ri:a.b(.c)  Received fields below the topmost (which is ours): relay domains, client /16 and /24
 *   ms: ds: dz: xm: ho: hn: mt: mc: me: mb: ta: z: ss:   structure (option `structure`, see below)
 *   S:Word / B:WORD     case-kept subject words, upper-case body words (option `caseTokens`)
 *
 * Unique. Headers that our own pipeline adds or that describe the transport (Received, except
 * the relays above, Return-Path, Authentication-Results, X-Postline-*, X-Spam-*, To/Cc/Delivered-To: the
 * recipient's own address would be in every message of an account) are never features, so
 * learning never learns our verdict or the mailbox it was delivered to.
 */
export interface TokenizeOptions {
  bigrams: boolean;
  /** Longest body text looked at (characters). */
  maxBodyChars: number;
  /** Relay hosts, domains and address prefixes of the Received fields below the topmost (ours). */
  received: boolean;
  /** Also pairs of words one apart ("a _ c", as in OSB). */
  skipPairs?: boolean;
  /** Value words of every header that is a feature (not only the selected ones). */
  allHeaderValues?: boolean;
  /** Words of the links' paths (`up:`). */
  urlPaths?: boolean;
  /**
   * Structure features: Message-ID and Date shapes, time zone, header order and count, MIME
   * structure (part types, charsets, transfer encodings, boundary shape), HTML tag attributes,
   * image/link/size buckets, subject shape (`ms:` `ds:` `dz:` `ho:` `hn:` `mt:` `mc:` `me:` `mb:` `ta:` `z:` `ss:`).
   */
  structure?: boolean;
  /** Case-kept subject words with capitals (`S:`), upper-case body words (`B:`). */
  caseTokens?: boolean;
  /** Words longer than 24 characters as "skip" shape tokens (first character + length bucket), as SpamBayes. */
  skipLong?: boolean;
  /** Whether the Message-ID's, links', relays', Reply-To's, Sender's and list's domains agree with the From domain (`al:`, alignment.ts). */
  alignment?: boolean;
  /** Per relay hop below the topmost: reverse name present, HELO kind, HELO vs reverse name, dynamic-looking, forged From domain (`rs:`, relays.ts). */
  relayShape?: boolean;
  /** Shape of each link: scheme, port, user part, escapes, query, path depth, file extension, top-level domain (`us:`). */
  urlShape?: boolean;
  /** HTML tag names (`tag:`) and, with `structure`, tag attribute names (`ta:`). Hidden-text styles (`ta:invisible`) are kept without it. */
  markup?: boolean;
}

/** Chosen by 5-fold cross-validation on TRAIN (bench/spam/tune.ts stages 6–7 and 13, markup off; docs/spam-benchmark.md). */
export const defaultTokenizeOptions: TokenizeOptions = { bigrams: true, maxBodyChars: 100_000, received: true, structure: true, caseTokens: true };

const IGNORED_HEADERS = new Set([
  "received", "return-path", "authentication-results", "arc-authentication-results", "arc-seal",
  "arc-message-signature", "received-spf", "delivered-to", "x-original-to", "to", "cc", "bcc",
  "envelope-to", "x-envelope-to", "x-envelope-from", "date", "message-id", "subject", "from", "reply-to",
  "sender", "content-type", "content-transfer-encoding", "dkim-signature", "domainkey-signature",
  "x-google-dkim-signature", "references", "in-reply-to", "x-loop", "lines", "status", "x-status",
  "x-keywords", "x-uid", "x-uidl", "content-length", "x-mozilla-status", "x-mozilla-status2",
]);
/** Headers about the transport or the recipient: not even their names count in the header order. */
const IGNORED_TRANSPORT = new Set([
  "received", "return-path", "authentication-results", "arc-authentication-results", "arc-seal",
  "arc-message-signature", "received-spf", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to",
  "x-envelope-from", "status", "x-status", "x-keywords", "x-uid", "x-uidl", "content-length", "lines",
  "x-mozilla-status", "x-mozilla-status2",
]);
const IGNORED_PREFIXES = ["x-postline-", "x-spam-", "x-rspamd-", "x-virus-"];
/** Headers whose value words are features (besides Subject and From, tokenized on their own). */
const VALUE_HEADERS = new Set([
  "reply-to", "sender", "x-mailer", "user-agent", "content-type", "x-priority", "x-msmail-priority",
  "importance", "precedence", "organization", "list-id", "x-mimeole", "mime-version", "errors-to",
]);

const WORD = /[\p{L}\p{N}$€£][\p{L}\p{N}$€£'’._-]*/gu;
const URL = /\bhttps?:\/\/[^\s"'<>()]+|\bwww\.[a-z0-9-]+\.[^\s"'<>()]+/gi;
const EMAIL_DOMAIN = /@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/gi;

const memo = new WeakMap<ContentView, string[]>();

/** The message's features (see above), memoized per content view. */
export function bayesTokens(content: ContentView): string[] {
  let tokens = memo.get(content);
  if (!tokens) {
    tokens = tokenize(content, defaultTokenizeOptions);
    memo.set(content, tokens);
  }
  return tokens;
}

/** "sha256:<hex>" of the bytes: the learn key of a message without a mail id. */
export function messageKeyOf(raw: Buffer): string {
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

export function tokenize(content: ContentView, options: TokenizeOptions = defaultTokenizeOptions): string[] {
  const out = new Set<string>();
  const parsed = content.parsed;

  // Headers
  let receivedSeen = 0;
  const relayHosts: string[] = [];
  const relayValues: string[] = [];
  for (const { key, line } of parsed.headerLines ?? []) {
    const name = key.toLowerCase();
    if (name === "received" && receivedSeen++ > 0) {
      if (options.received) addReceived(out, line);
      if (options.relayShape) relayValues.push(headerValue(line));
      if (options.alignment) for (const m of line.slice(0, 1000).matchAll(RECEIVED_HOST)) relayHosts.push(m[1]!.toLowerCase());
    }
    if (IGNORED_HEADERS.has(name) && !VALUE_HEADERS.has(name)) continue;
    if (IGNORED_PREFIXES.some((p) => name.startsWith(p))) continue;
    out.add(`h:${name}`);
    if (VALUE_HEADERS.has(name) || options.allHeaderValues) {
      const value = line.slice(line.indexOf(":") + 1);
      for (const w of words(value.slice(0, 300))) out.add(`hv:${name}:${w}`);
    }
  }
  const subject = parsed.subject ?? "";
  addText(out, "s", subject, options);
  if (!subject) out.add("x:no-subject");
  for (const from of parsed.from?.value ?? []) {
    const address = (from.address ?? "").toLowerCase();
    const at = address.lastIndexOf("@");
    if (at > 0) {
      out.add(`f:${address}`);
      const host = address.slice(at + 1);
      out.add(`fh:${host}`);
      out.add(`fd:${getDomain(host) ?? host}`);
      out.add(`fl:${shape(address.slice(0, at))}`);
    }
    for (const w of words(from.name ?? "")) out.add(`fn:${w}`);
  }
  const messageId = parsed.messageId ?? "";
  const midAt = messageId.lastIndexOf("@");
  if (midAt > 0) out.add(`mid:${messageId.slice(midAt + 1).replace(/>$/, "").toLowerCase()}`);
  else out.add("x:mid-none");

  // Bodies
  const urls: string[] = [];
  let text = typeof parsed.text === "string" ? parsed.text : "";
  const html = typeof parsed.html === "string" ? parsed.html : "";
  const stripped = strippedHtmlOf(content, options.maxBodyChars * 2);
  if (stripped) {
    urls.push(...stripped.urls);
    if (options.markup) for (const tag of stripped.tags) out.add(`tag:${tag}`);
    if (!text.trim()) out.add("x:html-only");
    text = text ? `${text}\n${stripped.text}` : stripped.text;
  }
  if (!text.trim()) out.add("x:no-text");
  text = text.slice(0, options.maxBodyChars);
  addText(out, "b", text, options);
  for (const m of text.matchAll(URL)) urls.push(m[0]);
  for (const m of text.matchAll(EMAIL_DOMAIN)) out.add(`ed:${m[1]!.toLowerCase()}`);
  let links = 0;
  const linkHosts: string[] = [];
  for (const url of urls) {
    const host = hostOf(url);
    if (!host) continue;
    links++;
    linkHosts.push(host);
    out.add(`u:${host}`);
    if (options.urlPaths) {
      const path = url.replace(/^[a-z]+:\/\/[^/]*/i, "").replace(/^www\.[^/]*/i, "");
      for (const w of words(path.slice(0, 200))) out.add(`up:${w}`);
    }
    out.add(`ud:${getDomain(host) ?? host}`);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) out.add("x:url-ip");
  }
  out.add(`x:links:${links === 0 ? "0" : links < 3 ? "1-2" : links < 10 ? "3-9" : "10+"}`);

  // Attachments
  for (const att of parsed.attachments ?? []) {
    out.add(`a:${(att.contentType ?? "application/octet-stream").toLowerCase()}`);
    const ext = /\.([a-z0-9]{1,8})$/i.exec(att.filename ?? "")?.[1];
    if (ext) out.add(`ae:${ext.toLowerCase()}`);
  }
  if (options.urlShape) for (const url of urls) addUrlShape(out, url);
  if (options.caseTokens) {
    for (const m of subject.matchAll(WORD)) if (/\p{Lu}/u.test(m[0]) && m[0].length <= 24) out.add(`S:${m[0]}`);
    let caps = 0;
    for (const m of text.matchAll(/\b\p{Lu}{3,24}\b/gu)) {
      caps++;
      out.add(`B:${m[0]}`);
    }
    out.add(`z:caps:${bucket(caps)}`);
  }
  if (options.structure) addStructure(out, content, subject, html, text, links, options.markup ?? false);
  if (options.alignment) for (const t of alignmentTokens(parsed, linkHosts, relayHosts)) out.add(t);
  if (options.relayShape) {
    const fromHost = fromDomain(parsed.from);
    for (const t of relayShapeTokens(relayValues, fromHost ? organizationalDomain(fromHost) : null)) out.add(t);
  }
  return [...out];
}

/** log2 bucket of a count: 0, 1, 2-3, 4-7, ... */
function bucket(n: number): string {
  return n <= 0 ? "0" : String(Math.floor(Math.log2(n)));
}

/** A string's shape: upper → A, lower → a, digits → 9, runs collapsed, cut. */
function charShape(value: string, max = 24): string {
  return value.replace(/\p{Lu}+/gu, "A").replace(/\p{Ll}+/gu, "a").replace(/\d+/g, "9").replace(/\s+/g, " ").slice(0, max);
}

function headerValue(line: string): string {
  return line.slice(line.indexOf(":") + 1).trim();
}

const MIME_TYPE = /^content-type:[ \t]*([a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/gim;
const MIME_ENCODING = /^content-transfer-encoding:[ \t]*"?([a-z0-9-]+)/gim;

function addStructure(out: Set<string>, content: ContentView, subject: string, html: string, text: string, links: number, markup: boolean): void {
  const lines = content.parsed.headerLines ?? [];
  // header order (names, transport ones left out) and count
  const names = lines.map((h) => h.key.toLowerCase()).filter((n) => !IGNORED_TRANSPORT.has(n) && !IGNORED_PREFIXES.some((p) => n.startsWith(p)));
  for (let i = 1; i < names.length && i < 12; i++) out.add(`ho:${names[i - 1]}>${names[i]}`);
  if (names[0]) out.add(`ho:^${names[0]}`);
  out.add(`hn:${bucket(names.length)}`);
  for (const { key, line } of lines) {
    const name = key.toLowerCase();
    if (name === "message-id") {
      const v = headerValue(line);
      const at = v.lastIndexOf("@");
      out.add(`ms:${charShape(at > 0 ? v.slice(0, at) : v)}`);
    } else if (name === "date") {
      const v = headerValue(line);
      out.add(`ds:${v.replace(/\d/g, "9").replace(/[a-z]+/gi, (w) => (w.length === 3 ? "Aaa" : w)).slice(0, 40)}`);
      const zone = /([+-]\d{4}|\b[A-Z]{2,5})\s*(?:\([^)]*\))?\s*$/.exec(v)?.[1];
      out.add(`dz:${zone ?? "none"}`);
    } else if (name === "x-mailer" || name === "user-agent") {
      out.add(`xm:${headerValue(line).replace(/\d+/g, "9").slice(0, 30).toLowerCase()}`);
    }
  }
  // MIME structure, from the bytes (every part's header)
  const raw = content.raw.subarray(0, 300_000).toString("latin1");
  let parts = 0;
  for (const m of raw.matchAll(MIME_TYPE)) {
    parts++;
    out.add(`mt:${m[1]!.toLowerCase()}`);
    const params = m[2]!;
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(params)?.[1];
    if (charset) out.add(`mc:${charset.toLowerCase()}`);
    const boundary = /boundary\s*=\s*"?([^";\r\n]+)/i.exec(params)?.[1];
    if (boundary) out.add(`mb:${charShape(boundary, 30)}`);
  }
  out.add(`z:parts:${bucket(parts)}`);
  for (const m of raw.matchAll(MIME_ENCODING)) out.add(`me:${m[1]!.toLowerCase()}`);
  // HTML attributes (names only; colour and hiding tricks kept as short codes)
  if (html) {
    let images = 0;
    for (const m of html.slice(0, 200_000).matchAll(/<([a-z][a-z0-9]*)\b([^>]*)>/gi)) {
      const tag = m[1]!.toLowerCase();
      if (tag === "img") images++;
      if (markup) for (const a of m[2]!.matchAll(/\b([a-z-]+)\s*=/gi)) out.add(`ta:${tag}.${a[1]!.toLowerCase().replace("color", "colr")}`);
      if (/display\s*:\s*none|visibility\s*:\s*hidden/i.test(m[2]!)) out.add("ta:invisible");
    }
    out.add(`z:img:${bucket(images)}`);
  }
  out.add(`z:len:${bucket(Math.floor(text.length / 64))}`);
  out.add(`z:links:${bucket(links)}`);
  // subject shape
  if (/\s{3,}\S+\s*$/.test(subject)) out.add("ss:padded-tail");
  if (/[\s_-][a-z0-9]{0,3}\d{3,}[a-z0-9]*\s*$/i.test(subject)) out.add("ss:id-tail");
  if (/!/.test(subject)) out.add("ss:bang");
  if (/[$€£%]/.test(subject)) out.add("ss:money");
  if (/^\s*(re|fw|fwd|aw)\s*:/i.test(subject)) out.add("ss:reply");
  out.add(`ss:len:${bucket(subject.length)}`);
}

function addUrlShape(out: Set<string>, url: string): void {
  const m = /^(?:([a-z][a-z0-9+.-]*):\/\/)?([^/?#]*)([^?#]*)(\?[^#]*)?/i.exec(url.trim());
  if (!m) return;
  const [, scheme = "none", authority = "", path = "", query] = m;
  out.add(`us:scheme:${scheme.toLowerCase()}`);
  if (authority.includes("@")) out.add("us:userinfo");
  if (/:\d+$/.test(authority)) out.add("us:port");
  if (/%[0-9a-f]{2}/i.test(authority + path)) out.add("us:escaped");
  const host = authority.replace(/^.*@/, "").replace(/:\d+$/, "").toLowerCase();
  const tld = /\.([a-z]{2,})$/.exec(host)?.[1];
  if (tld) out.add(`us:tld:${tld}`);
  out.add(`us:labels:${Math.min(host.split(".").length, 6)}`);
  const segments = path.split("/").filter(Boolean);
  out.add(`us:depth:${Math.min(segments.length, 5)}`);
  const ext = /\.([a-z0-9]{1,5})$/i.exec(segments[segments.length - 1] ?? "")?.[1];
  if (ext) out.add(`us:ext:${ext.toLowerCase()}`);
  if (query) out.add(`us:query:${Math.min(query.split("&").length, 5)}`);
  if (/~/.test(path)) out.add("us:tilde");
  if (/\d{5,}/.test(path + (query ?? ""))) out.add("us:longnum");
}

const RECEIVED_HOST = /\b(?:from|by)\s+([a-z0-9.-]+\.[a-z]{2,})\b/gi;
const IPV4 = /\[(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}\]/g;

/** A Received field of a relay before us: its hosts' registrable domains and its client's /16 and /24. */
function addReceived(out: Set<string>, line: string): void {
  const value = line.slice(0, 1000);
  for (const m of value.matchAll(RECEIVED_HOST)) {
    const host = m[1]!.toLowerCase();
    out.add(`rd:${getDomain(host) ?? host}`);
  }
  for (const m of value.matchAll(IPV4)) {
    out.add(`ri:${m[1]}.${m[2]}`);
    out.add(`ri:${m[1]}.${m[2]}.${m[3]}`);
  }
  if (/\bwith\s+(e?smtpa?s?)\b/i.test(value)) out.add(`rw:${/\bwith\s+(e?smtpa?s?)\b/i.exec(value)![1]!.toLowerCase()}`);
}

function addText(out: Set<string>, prefix: string, text: string, options: TokenizeOptions): void {
  let previous: string | null = null;
  let beforePrevious: string | null = null;
  for (const w of words(text, options.skipLong)) {
    out.add(`${prefix}:${w}`);
    if (options.bigrams && previous !== null) out.add(`${prefix}2:${previous} ${w}`);
    if (options.skipPairs && beforePrevious !== null) out.add(`${prefix}3:${beforePrevious} _ ${w}`);
    beforePrevious = previous;
    previous = w;
  }
}

/** Lower-cased words of 2 to 24 characters; longer ones are cut; numbers become their shape. */
function* words(text: string, skipLong = false): Generator<string> {
  for (const m of text.toLowerCase().matchAll(WORD)) {
    let w = m[0].replace(/[._'’-]+$/, "");
    if (w.length < 2) continue;
    if (/^[\d.,]+$/.test(w)) w = `#${w.length}`;
    else if (w.length > 24) w = skipLong ? `skip:${w[0]}${Math.floor(w.length / 10) * 10}` : `${w.slice(0, 16)}…`;
    yield w;
  }
}

function shape(local: string): string {
  return local.replace(/[a-z]+/g, "a").replace(/\d+/g, "9").slice(0, 12);
}

function hostOf(url: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#:@\s]+@)?([^/?#:\s]+)/i.exec(url.trim());
  if (!m || !/^(https?:|www\.)/i.test(url.trim())) return null;
  const host = m[2]!.toLowerCase().replace(/\.$/, "");
  return host.includes(".") ? host : null;
}
