import type { BlobStore } from "@postline/blobstore";
import { Readable } from "node:stream";

/**
 * Where a stored message's bytes are: `prefix` (messages.header_prefix: the header fields delivery
 * put on top of the message as received) followed by the blob's bytes. Delivery stores only the
 * prefix, in the message row; the blob is the message as received, written once by inbound-mx or
 * submission and shared by every recipient. A null prefix: the blob is the whole message (IMAP
 * APPEND, rows written before migration 0012). Every offset IMAP reports (size, bodystructure) is
 * an offset in this composition.
 */
export interface MessageContent {
  blobKey: string;
  prefix: Buffer | null;
}

/** A message row's content: `blob_hash` and `header_prefix` as read (PGlite gives a bytea as a Uint8Array, pg as a Buffer). */
export function contentOf(blobKey: string, prefix: Uint8Array | null | undefined): MessageContent {
  if (!prefix) return { blobKey, prefix: null };
  return { blobKey, prefix: Buffer.isBuffer(prefix) ? prefix : Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength) };
}

/** The whole message as a stream. */
export async function openContent(blobs: BlobStore, content: MessageContent): Promise<Readable> {
  const prefix = content.prefix;
  if (!prefix?.length) return blobs.get(content.blobKey);
  return joined(prefix, await blobs.get(content.blobKey));
}

/**
 * Octets [start, end] of the message (end inclusive, as BlobStore.getRange): from the prefix, from
 * the blob (its range shifted by the prefix's length), or the end of one and the start of the other.
 */
export async function openContentRange(blobs: BlobStore, content: MessageContent, start: number, end: number): Promise<Readable> {
  const length = content.prefix?.length ?? 0;
  if (start >= length) return blobs.getRange(content.blobKey, start - length, end - length);
  const head = content.prefix!.subarray(start, Math.min(end + 1, length));
  if (end < length) return Readable.from([head], { objectMode: false });
  return joined(head, await blobs.getRange(content.blobKey, 0, end - length));
}

/** Octets [start, end) of the message, in memory (a header block, a small part). */
export async function readContentRange(blobs: BlobStore, content: MessageContent, start: number, end: number): Promise<Buffer> {
  if (end <= start) return Buffer.alloc(0);
  return readAll(await openContentRange(blobs, content, start, end - 1));
}

/** The whole message in memory. */
export async function readContent(blobs: BlobStore, content: MessageContent): Promise<Buffer> {
  return readAll(await openContent(blobs, content));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** `head` then `rest`; destroying the result destroys `rest` (a reader that stops early frees the blob's connection). */
function joined(head: Buffer, rest: Readable): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    yield head;
    for await (const c of rest) yield Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
  }
  const out = Readable.from(gen(), { objectMode: false });
  out.once("close", () => rest.destroy());
  return out;
}
