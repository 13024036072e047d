import type { Readable } from "node:stream";

/** What a put returns. The key is the sha256 of the content, hex-encoded. */
export interface BlobRef {
  key: string;
  sha256: string;
  size: number;
}

export interface BlobStat {
  key: string;
  size: number;
}

export type BlobSource = Readable | Buffer | Uint8Array | AsyncIterable<Uint8Array>;

export interface PutOptions {
  /** Abort with BlobTooLargeError once more than this many bytes arrived (nothing is stored). */
  maxBytes?: number;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`blob ${key} not found`);
    this.name = "BlobNotFoundError";
  }
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`blob exceeds ${maxBytes} bytes`);
    this.name = "BlobTooLargeError";
  }
}

/**
 * Message bodies, content-addressed. S3 (any S3-compatible store) in cluster mode, a directory in
 * standalone mode. A put is atomic: a reader sees the whole object or none of it; putting content
 * that exists already is a cheap no-op that returns the same key.
 */
export interface BlobStore {
  readonly kind: "s3" | "fs";
  put(source: BlobSource, options?: PutOptions): Promise<BlobRef>;
  get(key: string): Promise<Readable>;
  /** Bytes [start, end] inclusive, clamped to the object's size. */
  getRange(key: string, start: number, end: number): Promise<Readable>;
  stat(key: string): Promise<BlobStat | null>;
  delete(key: string): Promise<void>;
  /** Resolves when the store answers; used by /readyz. */
  ping(): Promise<void>;
}
