import type { Readable } from "node:stream";
import { StructureParser } from "./structure-parser.ts";
import type { MessageStructure } from "./types.ts";

export type MessageSource = Uint8Array | AsyncIterable<Uint8Array | string> | Readable;

/**
 * Parses a message's MIME structure, envelope and search fields, streaming: memory stays flat whatever the size.
 * Never throws on malformed MIME (it gives a best-effort structure); rejects only when the source fails.
 */
export async function parseMessage(source: MessageSource): Promise<MessageStructure> {
  if (source instanceof Uint8Array) return parseMessageBuffer(source);
  const parser = new StructureParser();
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    parser.write(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
  }
  return parser.end();
}

/** parseMessage for a message already in memory, synchronously. */
export function parseMessageBuffer(message: Uint8Array): MessageStructure {
  const parser = new StructureParser();
  parser.write(message);
  return parser.end();
}
