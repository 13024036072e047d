/**
 * Whole small messages in memory, shared by the sessions of this process. An entry is named by the
 * message's content (its blob key, the sha256 of the blob, and its header prefix), so it can never
 * go stale; the cache is bounded in octets and forgets the least recently used messages first. A
 * FETCH of a cached message's body (or any range of it) writes from memory instead of asking the
 * blob store (one S3 request per body otherwise), and a client that reads its messages twice
 * (headers, then bodies; or several devices) reads the store once.
 */
import type { BlobStore } from "@postline/blobstore";
import { readContentRange, type MessageContent } from "@postline/mailstore";

/** Messages up to this size are cached whole; larger ones are streamed from the store as before. */
export const MAX_CACHED_BLOB = 256 * 1024;

export class BlobCache {
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private maxBytes: number) {}

  /** Whether a message of `size` octets is cached whole. */
  fits(size: number): boolean {
    return size > 0 && size <= MAX_CACHED_BLOB && size <= this.maxBytes / 4;
  }

  /** The whole message (`size` octets as the metadata says); from memory, else read once and kept. */
  async whole(blobs: BlobStore, content: MessageContent, size: number): Promise<Buffer> {
    const key = content.prefix?.length ? `${content.blobKey}:${content.prefix.toString("latin1")}` : content.blobKey;
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    let pending = this.loading.get(key);
    if (!pending) {
      pending = readContentRange(blobs, content, 0, size).finally(() => this.loading.delete(key));
      this.loading.set(key, pending);
      const data = await pending;
      this.remember(key, data);
      return data;
    }
    return pending;
  }

  /** Changes the bound (0 turns the cache off); drops what no longer fits. */
  resize(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.evict();
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  private remember(key: string, data: Buffer): void {
    if (this.entries.has(key) || !this.fits(data.length)) return;
    this.entries.set(key, data);
    this.bytes += data.length;
    this.evict();
  }

  private evict(): void {
    for (const [key, data] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= data.length;
    }
  }
}

/** The process's cache (POSTLINE_IMAP_BLOB_CACHE_MB, set by the service at start). */
export const blobCache = new BlobCache(32 * 1024 * 1024);
