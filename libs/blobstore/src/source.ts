import { createHash, type Hash } from "node:crypto";
import { BlobTooLargeError, type BlobSource } from "./blobstore.ts";

/** The chunks of any BlobSource as Buffers, without reading more than the consumer asks for. */
export async function* chunksOf(source: BlobSource): AsyncGenerator<Buffer> {
  if (source instanceof Uint8Array) {
    yield Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
    return;
  }
  for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
    if (typeof chunk === "string") yield Buffer.from(chunk);
    else yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
}

/** Running sha256 and byte count of a put, enforcing its size limit as bytes arrive. */
export class ContentMeter {
  private readonly hash: Hash = createHash("sha256");
  size = 0;

  constructor(private readonly maxBytes: number | undefined) {}

  /** Counts and hashes a chunk; throws BlobTooLargeError as soon as the limit is crossed. */
  add(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.maxBytes !== undefined && this.size > this.maxBytes) throw new BlobTooLargeError(this.maxBytes);
    this.hash.update(chunk);
  }

  digest(): string {
    return this.hash.digest("hex");
  }
}
