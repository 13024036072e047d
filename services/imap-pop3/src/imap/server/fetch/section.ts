/**
 * Body sections (RFC 9051 6.4.5) as byte ranges of the stored message, using the cached MIME structure
 * (libs/mime MimePart offsets). Whole parts and bodies are served as ranges (streamed from the blob
 * store); header blocks and HEADER.FIELDS results are read into memory (bounded: a header block).
 */
import type { BlobStore } from "@postline/blobstore";
import { readContentRange, type MessageContent } from "@postline/mailstore";
import { findPart, selectHeaderFields, type MessageStructure, type MimePart } from "@postline/mime";
import { Readable } from "node:stream";
import type { Section } from "../../protocol/types.ts";

export type Content = { kind: "nil" } | { kind: "bytes"; data: Buffer } | { kind: "range"; start: number; end: number };

export function structureOf(body: MimePart, size: number): MessageStructure {
  return { size, body, envelope: null as never, search: null as never };
}

/** The entity a part number names (`[]` is the whole message). */
export function partOf(body: MimePart, size: number, part: number[]): MimePart | null {
  return findPart(structureOf(body, size), part.join("."));
}

/** The section label as the response repeats it: `1.HEADER.FIELDS (FROM TO)`. */
export function sectionLabel(section: Section): string {
  let s = section.part.join(".");
  if (section.text) {
    s += (s ? "." : "") + section.text;
    if (section.fields) s += ` (${section.fields.join(" ")})`;
  }
  return s;
}

/** What a section names, for a message of `size` octets. */
export async function sectionContent(blobs: BlobStore, content: MessageContent, body: MimePart, size: number, section: Section): Promise<Content> {
  const text = section.text;
  if (section.part.length === 0) {
    if (!text) return { kind: "range", start: 0, end: size };
    return entityText(blobs, content, body, text, section.fields);
  }
  const part = partOf(body, size, section.part);
  if (!part) return { kind: "nil" };
  if (!text) return { kind: "range", start: part.bodyStart, end: part.bodyEnd };
  if (text === "MIME") return { kind: "range", start: part.headerStart, end: part.bodyStart };
  // HEADER, HEADER.FIELDS, TEXT of a part: the encapsulated message of a message/rfc822 part.
  const inner = part.body;
  if (!inner) return { kind: "bytes", data: Buffer.alloc(0) };
  return entityText(blobs, content, inner, text, section.fields);
}

async function entityText(blobs: BlobStore, content: MessageContent, entity: MimePart, text: NonNullable<Section["text"]>, fields?: string[]): Promise<Content> {
  switch (text) {
    case "TEXT":
      return { kind: "range", start: entity.bodyStart, end: entity.bodyEnd };
    case "HEADER":
    case "MIME":
      return { kind: "range", start: entity.headerStart, end: entity.bodyStart };
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      const header = await readContentRange(blobs, content, entity.headerStart, entity.bodyStart);
      return { kind: "bytes", data: selectHeaderFields(header, fields ?? [], text === "HEADER.FIELDS.NOT") };
    }
  }
}

/** Applies `<offset.length>`. */
export function applyPartial(content: Content, partial?: { offset: number; length: number }): Content {
  if (!partial || content.kind === "nil") return content;
  if (content.kind === "bytes") {
    return { kind: "bytes", data: content.data.subarray(Math.min(partial.offset, content.data.length), Math.min(partial.offset + partial.length, content.data.length)) };
  }
  const start = Math.min(content.start + partial.offset, content.end);
  return { kind: "range", start, end: Math.min(start + partial.length, content.end) };
}

export function contentLength(content: Content): number {
  return content.kind === "nil" ? 0 : content.kind === "bytes" ? content.data.length : content.end - content.start;
}

/**
 * Exactly `length` bytes from `source`: the literal's prefix promised that many, so a blob that is
 * shorter than its metadata says (corruption) is padded with spaces and a longer one cut, keeping
 * the protocol stream intact.
 */
export function exactly(source: AsyncIterable<Uint8Array | string>, length: number): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let left = length;
    for await (const c of source) {
      if (left <= 0) break;
      const b = typeof c === "string" ? Buffer.from(c) : Buffer.isBuffer(c) ? c : Buffer.from(c);
      const piece = b.length > left ? b.subarray(0, left) : b;
      left -= piece.length;
      yield piece;
    }
    if (left > 0) yield Buffer.alloc(left, 0x20);
  }
  return Readable.from(gen(), { objectMode: false });
}
