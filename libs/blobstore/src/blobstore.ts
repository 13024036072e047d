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
  /**
   * Abort with BlobTooLargeError as soon as more than this many bytes arrived: the source is not read
   * further (a Readable is destroyed) and nothing is stored.
   */
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
 * that exists already is a cheap no-op that returns the same key. Content is streamed and hashed as
 * it arrives, never held whole in memory.
 *
 * A key that is not 64 lowercase hex digits can never exist: get/getRange throw BlobNotFoundError,
 * stat returns null and delete does nothing.
 */
export interface BlobStore {
  readonly kind: "s3" | "fs";
  /** Stores the content; an error of the source rejects the put and stores nothing. */
  put(source: BlobSource, options?: PutOptions): Promise<BlobRef>;
  /** The whole blob; BlobNotFoundError (before any stream exists) when it is missing. */
  get(key: string): Promise<Readable>;
  /**
   * Bytes [start, end] inclusive, clamped to the object's size: empty when start is at or past the
   * end or end < start. start and end are non-negative integers (RangeError otherwise).
   * BlobNotFoundError when the blob is missing, whatever the range.
   */
  getRange(key: string, start: number, end: number): Promise<Readable>;
  /** null when the blob is missing. */
  stat(key: string): Promise<BlobStat | null>;
  /** Idempotent: deleting a missing blob succeeds. */
  delete(key: string): Promise<void>;
  /** Resolves when the store answers; used by /readyz. */
  ping(): Promise<void>;
}
