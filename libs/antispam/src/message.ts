import type { Readable } from "node:stream";
import { simpleParser, type ParsedMail } from "mailparser";

export interface ContentView {
  parsed: ParsedMail;
  /** The bytes that were parsed (the whole message, or its first maxBytes when truncated). */
  raw: Buffer;
  /** True when the message was longer than the content cap and only its start was parsed. */
  truncated: boolean;
}

/**
 * Parses the first `maxBytes` of a message for the content rules. A longer message is cut: the
 * header and early parts are what the rules look at, and memory stays bounded whatever the size.
 */
export async function parseContent(message: Readable | Buffer, maxBytes: number): Promise<ContentView> {
  const { bytes, truncated } = Buffer.isBuffer(message)
    ? { bytes: message.subarray(0, maxBytes), truncated: message.length > maxBytes }
    : await readAtMost(message, maxBytes);
  const parsed = await simpleParser(bytes, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    checksumAlgo: false,
  } as Parameters<typeof simpleParser>[1]);
  return { parsed, raw: bytes, truncated };
}

async function readAtMost(stream: Readable, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let truncated = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const room = maxBytes - length;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      length += room;
      truncated = true;
      break; // leaving the loop destroys the stream: the rest is never read
    }
    chunks.push(chunk);
    length += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, length), truncated };
}

