import assert from "node:assert/strict";
import { allParts, type MessageStructure, type MimePart } from "@postline/mime";

type Range = [number, number];

/**
 * Assembles a test message from pieces and records, while assembling, where each part's header and body are:
 * the expected offsets come from how the message was built, never from the parser.
 * Text is written with "\n" and converted to the builder's line ending.
 */
export class MessageBuilder {
  private readonly pieces: Buffer[] = [];
  private length = 0;
  private readonly open = new Map<string, number>();
  readonly headers = new Map<string, Range>();
  readonly bodies = new Map<string, Range>();

  constructor(readonly eol: "\r\n" | "\n" = "\r\n") {}

  text(s: string): this {
    const buf = Buffer.from(s.replace(/\n/g, this.eol), "utf8");
    this.pieces.push(buf);
    this.length += buf.length;
    return this;
  }

  /** The header block of part `id` (must end with the blank line), the body starting right after it. */
  header(id: string, s: string): this {
    const start = this.length;
    this.text(s);
    this.headers.set(id, [start, this.length]);
    this.open.set(id, this.length);
    return this;
  }

  /** Ends the body of part `id` here. */
  endBody(id: string): this {
    const start = this.open.get(id);
    assert.ok(start !== undefined, `no open part ${id}`);
    this.bodies.set(id, [start, this.length]);
    this.open.delete(id);
    return this;
  }

  /** A whole leaf body. */
  body(id: string, s: string): this {
    return this.text(s).endBody(id);
  }

  build(): Buffer {
    for (const id of [...this.open.keys()]) this.endBody(id);
    return Buffer.concat(this.pieces);
  }
}

/** Every part of `structure`, keyed by a label: the partId, or "<id>/message" for an encapsulated root. */
export function labelledParts(structure: MessageStructure): Map<string, MimePart> {
  const out = new Map<string, MimePart>();
  const visit = (p: MimePart, label: string): void => {
    out.set(label, p);
    if (p.body) visit(p.body, `${p.partId}/message`);
    for (const c of p.children ?? []) visit(c, c.partId);
  };
  visit(structure.body, "root");
  return out;
}

/** Asserts each part's header and body byte ranges are exactly what the builder recorded, and no part is unexpected. */
export function assertRanges(message: Buffer, structure: MessageStructure, builder: MessageBuilder): void {
  const parts = labelledParts(structure);
  assert.deepEqual([...parts.keys()].sort(), [...builder.headers.keys()].sort(), "part labels");
  for (const [label, part] of parts) {
    const [hs, he] = builder.headers.get(label)!;
    const [bs, be] = builder.bodies.get(label)!;
    assert.equal(message.subarray(part.headerStart, part.bodyStart).toString("latin1"), message.subarray(hs, he).toString("latin1"), `${label} header`);
    assert.equal(message.subarray(part.bodyStart, part.bodyEnd).toString("latin1"), message.subarray(bs, be).toString("latin1"), `${label} body`);
    assert.deepEqual([part.headerStart, part.bodyStart, part.bodyEnd], [hs, he, be], `${label} offsets`);
    assert.equal(part.size, be - bs, `${label} size`);
    assert.equal(part.lines, linesOf(message.subarray(bs, be)), `${label} lines`);
  }
  assert.equal(structure.size, message.length);
  assert.equal(allParts(structure).length, parts.size);
}

/** Text lines in a body: line feeds, plus a last line without one. */
export function linesOf(body: Buffer): number {
  let n = 0;
  for (const b of body) if (b === 10) n++;
  return body.length > 0 && body[body.length - 1] !== 10 ? n + 1 : n;
}

/** Feeds `message` to `parse` in chunks of `size` bytes. */
export async function* chunked(message: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < message.length; i += size) yield message.subarray(i, i + size);
}
