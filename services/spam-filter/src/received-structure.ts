import { Readable } from "node:stream";
import { PrefixableParser, type PrefixableStructure } from "@postline/mime";

/** Structures larger than this (as JSON) stay out of the event; delivery parses those messages itself. */
const MAX_STRUCTURE_JSON = 128 * 1024;

/**
 * The received message's MIME structure, parsed while the classifier reads the message (its first
 * read only), for mail.classified's `parsed`: delivery then neither reads nor parses the blob again.
 */
export class ReceivedStructure {
  private parser: PrefixableParser | undefined;
  private read = 0;

  constructor(private readonly size: number) {}

  /** The stream to hand to the classifier: `stream`, parsed on the way the first time. */
  observe(stream: Readable): Readable {
    if (this.parser) return stream;
    const parser = (this.parser = new PrefixableParser());
    const count = (n: number) => (this.read += n);
    async function* parsed(): AsyncGenerator<Buffer> {
      for await (const c of stream) {
        const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
        parser.write(chunk);
        count(chunk.length);
        yield chunk;
      }
    }
    return Readable.from(parsed(), { objectMode: false });
  }

  /** The structure, when the classifier read the whole message and it is small enough to travel. */
  result(): PrefixableStructure | undefined {
    if (!this.parser || this.read !== this.size) return undefined;
    const parsed = this.parser.end();
    if (!parsed || JSON.stringify(parsed.structure).length > MAX_STRUCTURE_JSON) return undefined;
    return parsed;
  }
}
