import type { BlobStore } from "@postline/blobstore";
import type { MailClassified } from "@postline/events";
import { StructureParser, behindPrefix, type MessageStructure } from "@postline/mime";

/**
 * The header fields delivery puts on top of the message as received. They depend only on the event
 * (with the verdict that applies: an account with a verdict of its own gets its own header, see
 * deliver-local.ts), never on the recipient or the time, so one stored blob serves every local
 * recipient with the same verdict and a redelivered event produces the same bytes, hence the same blob key:
 *
 *   Return-Path: <sender>                         (RFC 5321 §4.4, added at final delivery)
 *   X-Postline-Spam: junk, score=7.5, symbols=DMARC_FAIL(4.0),NO_DATE(1.0)
 *   Authentication-Results: <the spam filter's value>
 *
 * No Delivered-To: it names the recipient, and would give every recipient a copy of its own.
 * `eol` is the line ending the message itself uses, so the stored message stays consistent.
 */
export function deliveryHeader(event: MailClassified, eol: "\r\n" | "\n"): Buffer {
  const lines = [`Return-Path: <${oneLine(event.envelope.mailFrom)}>`, spamHeader(event.verdict, eol)];
  const authResults = foldedValue(event.verdict.authResults, eol);
  if (authResults) lines.push(`Authentication-Results: ${authResults}`);
  return Buffer.from(lines.map((l) => l + eol).join(""), "utf8");
}

/** `X-Postline-Spam: <action>, score=<score>, symbols=<NAME(score),…>`, folded between symbols. */
export function spamHeader(verdict: MailClassified["verdict"], eol: string): string {
  let line = `X-Postline-Spam: ${verdict.action}, score=${formatScore(verdict.score)}, symbols=`;
  const out: string[] = [];
  const symbols = verdict.symbols.map((s) => `${s.name.replace(/[^A-Za-z0-9_.-]/g, "_")}(${formatScore(s.score)})`);
  symbols.forEach((symbol, i) => {
    const piece = symbol + (i < symbols.length - 1 ? "," : "");
    if (i > 0 && line.length + piece.length > 78) {
      out.push(line);
      line = "\t";
    }
    line += piece;
  });
  out.push(line);
  return out.join(eol);
}

/** At least one decimal: 1 → "1.0", 2.25 → "2.25", -0.5 → "-0.5". */
export function formatScore(score: number): string {
  const rounded = Math.round(score * 100) / 100;
  return Number.isInteger(rounded) ? rounded.toFixed(1) : String(rounded);
}

/** A header value that may contain folding: line breaks normalised, every continuation line indented. */
function foldedValue(value: string, eol: string): string {
  return value
    .split(/\r?\n|\r/)
    .map((l, i) => (i === 0 ? l.trim() : l.trimEnd()))
    .filter((l) => l.trim() !== "")
    .map((l, i) => (i === 0 || /^[ \t]/.test(l) ? l : `\t${l}`))
    .join(eol);
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ");
}

/**
 * The line ending of a message: CRLF unless its first line ends in a bare LF. Decided on whole
 * lines, not on how the stream happens to be chunked, so the result is the same on every read.
 * Returns the chunks it had to read, to be written before the rest of `chunks`.
 */
export async function detectLineEnding(chunks: AsyncIterator<Buffer>): Promise<{ eol: "\r\n" | "\n"; head: Buffer[] }> {
  const head: Buffer[] = [];
  let seen = 0;
  while (seen <= 65536) {
    const next = await chunks.next();
    if (next.done) break;
    const chunk = next.value;
    head.push(chunk);
    const lf = chunk.indexOf(10);
    if (lf !== -1) {
      const before = lf > 0 ? chunk[lf - 1] : lastByteBefore(head);
      return { eol: before === 13 ? "\r\n" : "\n", head };
    }
    seen += chunk.length;
  }
  return { eol: "\r\n", head };
}

/** The last byte of the chunks before the last one. */
function lastByteBefore(head: Buffer[]): number | undefined {
  for (let i = head.length - 2; i >= 0; i--) {
    const b = head[i]!;
    if (b.length > 0) return b[b.length - 1];
  }
  return undefined;
}

export interface StoredMessage {
  /** The blob: the message as received. */
  key: string;
  /** The delivery header, kept in the message row before the blob's bytes (libs/mailstore content.ts). */
  prefix: Buffer;
  /** The stored message's size: prefix and blob. */
  size: number;
  /** Those of the stored bytes (prefix and blob), so sizes and offsets are those IMAP serves. */
  structure: MessageStructure;
}

/**
 * The message as delivered: the delivery header followed by the received bytes. Only the header is
 * new (the caller stores it in the message row); the received blob is referenced as it is, so
 * delivery writes no blob. Its structure comes from the event when the spam filter parsed it
 * (`parsed`, shifted behind the header: delivery reads nothing), else from reading the blob once,
 * streamed through the MIME parser behind the header.
 */
export async function storedMessage(blobs: BlobStore, event: MailClassified): Promise<StoredMessage> {
  if (event.parsed && event.parsed.structure.size === event.blob.size) {
    const parsed = { eol: event.parsed.eol, structure: event.parsed.structure as MessageStructure };
    const prefix = deliveryHeader(event, parsed.eol);
    const structure = behindPrefix(parsed, prefix.length);
    if (structure) return { key: event.blob.key, prefix, size: prefix.length + event.blob.size, structure };
  }
  return readStoredMessage(blobs, event);
}

async function readStoredMessage(blobs: BlobStore, event: MailClassified): Promise<StoredMessage> {
  const original = await blobs.get(event.blob.key);
  try {
    const chunks = (original as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    const { eol, head } = await detectLineEnding(chunks);
    const prefix = deliveryHeader(event, eol);
    const parser = new StructureParser();
    parser.write(prefix);
    let read = 0;
    for (const chunk of head) {
      parser.write(chunk);
      read += chunk.length;
    }
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      parser.write(next.value);
      read += next.value.length;
    }
    // A short read would describe a different message than the one the row points at: refuse it and retry.
    if (read !== event.blob.size) throw new Error(`received message is ${read} bytes, expected ${event.blob.size}`);
    return { key: event.blob.key, prefix, size: prefix.length + read, structure: parser.end() };
  } finally {
    original.destroy();
  }
}
