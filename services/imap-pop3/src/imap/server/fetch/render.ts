/**
 * Renders one message's FETCH response, item by item in the order asked. Metadata comes from the
 * batch query of the op (core/messages.ts loadMeta); bodies are streamed from the blob store by byte
 * range behind their literal prefix. Small buffered pieces (header blocks, HEADER.FIELDS, small
 * decoded BINARY parts) are written as they are. A message whose cached structure is missing is
 * parsed from its blob (streaming) and the result cached.
 */
import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import { openContent, openContentRange, readContentRange } from "@postline/mailstore";
import { parseMessage, type Envelope, type MimePart } from "@postline/mime";
import { bodyStructureText } from "../../protocol/bodystructure.ts";
import { flagList, internalDate, literalPrefix } from "../../protocol/encode.ts";
import type { FetchAttribute } from "../../protocol/types.ts";
import type { MessageMeta } from "../core/messages.ts";
import { saveStructure } from "../core/messages.ts";
import type { Readable } from "node:stream";
import type { ResponseSink } from "../core/op.ts";
import { decoderFor, knownEncoding } from "./decode.ts";
import { blobCache } from "./blob-cache.ts";
import { cachedEnvelope, rememberEnvelope } from "./envelope-cache.ts";
import { applyPartial, contentLength, exactly, partOf, sectionContent, sectionLabel, type Content } from "./section.ts";

/** A BINARY fetch of a part with a transfer encoding we cannot decode: the command ends `NO [UNKNOWN-CTE]`. */
export class UnknownCte extends Error {
  constructor(readonly encoding: string) {
    super(`unknown content transfer encoding ${encoding}`);
    this.name = "UnknownCte";
  }
}

/** Decoded BINARY parts up to this size are decoded in memory; larger ones are decoded twice, streaming (size, then content). */
const BUFFERED_DECODE = 1024 * 1024;

export interface RenderEnv {
  db: Db;
  blobs: BlobStore;
  /** rev1: FLAGS lists \Recent for messages recent in this view. */
  recent: (uid: number) => boolean;
  /** Messages whose \Seen this FETCH just set: FLAGS is added to their response. */
  flagsChanged?: Set<number>;
}

const needsBody = (a: FetchAttribute): boolean =>
  a.kind === "BODY[]" || a.kind === "BINARY" || a.kind === "BINARY.SIZE" || a.kind === "RFC822" || a.kind === "RFC822.HEADER" || a.kind === "RFC822.TEXT";

/** Whether the item needs the MIME structure (the whole message, `BODY[]`, does not). */
const needsStructure = (a: FetchAttribute): boolean => {
  switch (a.kind) {
    case "BODY[]":
      return a.section.part.length > 0 || a.section.text !== undefined;
    case "BINARY":
    case "BINARY.SIZE":
      return a.part.length > 0;
    case "RFC822.HEADER":
    case "RFC822.TEXT":
    case "BODYSTRUCTURE":
    case "BODY":
      return true;
    default:
      return false;
  }
};

/** The columns a set of attributes needs. */
export function columnsFor(attrs: FetchAttribute[]): { date: boolean; size: boolean; blob: boolean; envelope: boolean; structure: boolean } {
  const has = (k: FetchAttribute["kind"]) => attrs.some((a) => a.kind === k);
  const body = attrs.some(needsBody);
  return {
    date: has("INTERNALDATE"),
    size: has("RFC822.SIZE") || body,
    blob: body || has("BODYSTRUCTURE") || has("BODY") || has("ENVELOPE"),
    // ENVELOPE comes from the process-wide cache, or fillEnvelopes for what it lacks.
    envelope: false,
    structure: attrs.some(needsStructure),
  };
}

export async function renderFetch(env: RenderEnv, out: ResponseSink, seq: number, m: MessageMeta, attrs: FetchAttribute[]): Promise<void> {
  await ensureStructure(env, m, attrs);
  // Refuse an undecodable BINARY before anything of this response is written.
  for (const a of attrs) {
    if ((a.kind === "BINARY" || a.kind === "BINARY.SIZE") && a.part.length > 0) {
      const p = partOf(m.body!, m.size!, a.part);
      if (p && !knownEncoding(p.encoding)) throw new UnknownCte(p.encoding);
    }
  }
  // No closures here: this runs once per message of a FETCH (1,000 for `1:*`).
  const line = new FetchLine(seq);

  let flagsWritten = false;
  for (const a of attrs) {
    switch (a.kind) {
      case "UID":
        line.item(`UID ${m.uid}`);
        break;
      case "FLAGS":
        line.item(`FLAGS ${flagsOf(env, m)}`);
        flagsWritten = true;
        break;
      case "MODSEQ":
        line.item(`MODSEQ (${m.modseq})`);
        break;
      case "INTERNALDATE":
        line.item(`INTERNALDATE ${internalDate(m.internalDate!)}`);
        break;
      case "RFC822.SIZE":
        line.item(`RFC822.SIZE ${m.size}`);
        break;
      case "ENVELOPE":
        line.item(`ENVELOPE ${cachedEnvelope(m.id) ?? rememberEnvelope(m.id, m.envelope!)}`);
        break;
      case "BODYSTRUCTURE":
        line.item(`BODYSTRUCTURE ${bodyStructureText(m.body!, true)}`);
        break;
      case "BODY":
        line.item(`BODY ${bodyStructureText(m.body!, false)}`);
        break;
      case "RFC822":
        await writeContent(env, out, m, line, "RFC822", { kind: "range", start: 0, end: m.size! });
        break;
      case "RFC822.HEADER":
        await writeContent(env, out, m, line, "RFC822.HEADER", await sectionContent(env.blobs, m.content!, m.body!, m.size!, { part: [], text: "HEADER" }));
        break;
      case "RFC822.TEXT":
        await writeContent(env, out, m, line, "RFC822.TEXT", await sectionContent(env.blobs, m.content!, m.body!, m.size!, { part: [], text: "TEXT" }));
        break;
      case "BODY[]": {
        const content = await sectionContent(env.blobs, m.content!, m.body!, m.size!, a.section);
        const label = `BODY[${sectionLabel(a.section)}]${a.partial ? `<${a.partial.offset}>` : ""}`;
        await writeContent(env, out, m, line, label, applyPartial(content, a.partial));
        break;
      }
      case "BINARY": {
        const label = `BINARY[${a.part.join(".")}]${a.partial ? `<${a.partial.offset}>` : ""}`;
        const b = await binaryContent(env, m, a.part);
        if (b.kind === "decoded-stream") {
          const range = applyPartial({ kind: "range", start: 0, end: b.size }, a.partial) as { start: number; end: number };
          const n = range.end - range.start;
          line.item(`${label} ~${literalPrefix(n)}`);
          out.write(line.take());
          if (n > 0) await out.stream(exactly(decodedSlice(env, m, b.part, range.start, range.end), n));
        } else {
          const c = applyPartial(b.content, a.partial);
          await writeContent(env, out, m, line, label, c, c.kind === "bytes" && c.data.includes(0));
        }
        break;
      }
      case "BINARY.SIZE": {
        const b = await binaryContent(env, m, a.part);
        const size = b.kind === "decoded-stream" ? b.size : contentLength(b.content);
        line.item(`BINARY.SIZE[${a.part.join(".")}] ${size}`);
        break;
      }
    }
  }
  if (!flagsWritten && env.flagsChanged?.has(m.uid)) line.item(`FLAGS ${flagsOf(env, m)}`);
  out.write(`${line.take()})\r\n`);
}

/** One message's FETCH response line, item by item. */
class FetchLine {
  private text: string;
  private first = true;
  constructor(seq: number) {
    this.text = `* ${seq} FETCH (`;
  }
  item(s: string): void {
    if (this.first) {
      this.first = false;
      this.text += s;
    } else this.text += ` ${s}`;
  }
  /** What is written so far; the line continues empty. */
  take(): string {
    const t = this.text;
    this.text = "";
    return t;
  }
}

/** A body section item: its literal prefix, then the bytes (from the message cache, or streamed from the blob store). */
async function writeContent(env: RenderEnv, out: ResponseSink, m: MessageMeta, line: FetchLine, label: string, content: Content, binary = false): Promise<void> {
  if (content.kind === "nil") {
    line.item(`${label} NIL`);
    return;
  }
  const n = contentLength(content);
  line.item(`${label} ${binary ? "~" : ""}${literalPrefix(n)}`);
  if (content.kind === "bytes") {
    out.write(line.take());
    out.write(content.data);
    return;
  }
  if (n === 0) {
    out.write(line.take());
    return;
  }
  // The bytes are at hand (or the stream is open) before the literal's prefix goes out: a missing
  // blob is then the command's NO, not a literal the client waits for in vain.
  if (blobCache.fits(m.size!)) {
    const whole = await blobCache.whole(env.blobs, m.content!, m.size!);
    out.write(line.take());
    out.write(slice(whole, content.start, content.end));
    return;
  }
  const body = await openContentRange(env.blobs, m.content!, content.start, content.end - 1);
  out.write(line.take());
  await out.stream(exactly(body, n));
}

/** Bytes [start, end) of a cached blob; a blob shorter than its metadata is padded with spaces, as `exactly` does. */
function slice(whole: Buffer, start: number, end: number): Buffer {
  if (end <= whole.length) return whole.subarray(start, end);
  const out = Buffer.alloc(end - start, 0x20);
  if (start < whole.length) whole.copy(out, 0, start);
  return out;
}

function flagsOf(env: RenderEnv, m: MessageMeta): string {
  return flagList(env.recent(m.uid) ? [...m.flags, "\\Recent"] : m.flags);
}

async function ensureStructure(env: RenderEnv, m: MessageMeta, attrs: FetchAttribute[]): Promise<void> {
  const wantsEnvelope = attrs.some((a) => a.kind === "ENVELOPE") && !cachedEnvelope(m.id);
  const wantsBody = attrs.some(needsStructure);
  if ((!wantsEnvelope || m.envelope) && (!wantsBody || m.body)) return;
  const parsed = await parseMessage(await openContent(env.blobs, m.content!));
  m.envelope = parsed.envelope;
  m.body = parsed.body;
  if (m.size === undefined) m.size = parsed.size;
  await saveStructure(env.db, m.id, parsed.envelope as Envelope, parsed.body as MimePart);
}

type Binary = { kind: "plain"; content: Content } | { kind: "decoded-stream"; part: MimePart; size: number };

async function binaryContent(env: RenderEnv, m: MessageMeta, part: number[]): Promise<Binary> {
  if (part.length === 0) return { kind: "plain", content: { kind: "range", start: 0, end: m.size! } };
  const p = partOf(m.body!, m.size!, part);
  if (!p) return { kind: "plain", content: { kind: "nil" } };
  if (p.children || !["BASE64", "QUOTED-PRINTABLE"].includes(p.encoding.toUpperCase())) {
    if (!knownEncoding(p.encoding)) throw new UnknownCte(p.encoding);
    return { kind: "plain", content: { kind: "range", start: p.bodyStart, end: p.bodyEnd } };
  }
  if (p.size <= BUFFERED_DECODE) {
    const raw = await readContentRange(env.blobs, m.content!, p.bodyStart, p.bodyEnd);
    const d = decoderFor(p.encoding);
    const data = Buffer.concat([d.push(raw), d.end()]);
    return { kind: "plain", content: { kind: "bytes", data } };
  }
  let size = 0;
  for await (const c of decodedSlice(env, m, p, 0, Number.MAX_SAFE_INTEGER)) size += c.length;
  return { kind: "decoded-stream", part: p, size };
}

/** Decoded bytes [start, end) of a part, streamed. */
async function* decodedSlice(env: RenderEnv, m: MessageMeta, p: MimePart, start: number, end: number): AsyncGenerator<Buffer> {
  const d = decoderFor(p.encoding);
  let pos = 0;
  const emit = function* (chunk: Buffer): Generator<Buffer> {
    const a = Math.max(start - pos, 0);
    const b = Math.min(end - pos, chunk.length);
    pos += chunk.length;
    if (b > a) yield chunk.subarray(a, b);
  };
  if (p.bodyEnd > p.bodyStart) {
    for await (const c of await openContentRange(env.blobs, m.content!, p.bodyStart, p.bodyEnd - 1)) {
      yield* emit(d.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array)));
      if (pos >= end) return;
    }
  }
  yield* emit(d.end());
}

/**
 * Joins the many small writes of a multi-message FETCH into writes of up to 64 KiB (one socket write,
 * one TLS record each instead of one per message); a body stream or a buffer flushes first.
 */
export class CoalescingSink implements ResponseSink {
  private pending = "";
  constructor(private readonly out: ResponseSink) {}
  write(chunk: string | Buffer): void {
    if (typeof chunk === "string") {
      this.pending += chunk;
      if (this.pending.length >= 65536) this.flush();
      return;
    }
    this.flush();
    this.out.write(chunk);
  }
  stream(body: Readable): Promise<void> {
    this.flush();
    return this.out.stream(body);
  }
  flush(): void {
    if (this.pending) {
      // Encoding the (rope) string here is cheaper than handing it to the socket as a string.
      this.out.write(Buffer.from(this.pending, "utf8"));
      this.pending = "";
    }
  }
}
