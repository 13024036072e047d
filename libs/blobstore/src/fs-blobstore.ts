import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BlobNotFoundError, type BlobRef, type BlobSource, type BlobStat, type BlobStore, type PutOptions } from "./blobstore.ts";
import { checkRange, isBlobKey } from "./keys.ts";
import { ContentMeter, chunksOf } from "./source.ts";

export interface FsBlobStoreOptions {
  /** Temp files older than this are left-overs of a crashed put and are removed by `open` (default 1 hour). */
  staleTempMs?: number;
}

const DEFAULT_STALE_TEMP_MS = 60 * 60 * 1000;
const TEMP_SUFFIX = ".tmp";

/**
 * Blobs as files under `dir`: `ab/cd/<sha256>`, written through `dir/tmp/` (same filesystem) and
 * renamed into place after an fsync, so a reader sees the whole file or none, even after a crash.
 */
export class FsBlobStore implements BlobStore {
  readonly kind = "fs" as const;
  private readonly blobsDir: string;
  private readonly tmpDir: string;
  private dirsReady: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly options: FsBlobStoreOptions = {},
  ) {
    this.blobsDir = dir;
    this.tmpDir = join(dir, "tmp");
  }

  /** Creates the directories and removes temp files that a crashed process left behind. */
  static async open(dir: string, options: FsBlobStoreOptions = {}): Promise<FsBlobStore> {
    const store = new FsBlobStore(dir, options);
    await store.ensureDirs();
    await store.removeStaleTemp();
    return store;
  }

  async put(source: BlobSource, options: PutOptions = {}): Promise<BlobRef> {
    await this.ensureDirs();
    const tmpPath = join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString("hex")}${TEMP_SUFFIX}`);
    const meter = new ContentMeter(options.maxBytes);
    let file: FileHandle | undefined = await open(tmpPath, "wx", 0o640);
    try {
      for await (const chunk of chunksOf(source)) {
        meter.add(chunk);
        await writeAll(file, chunk);
      }
      await file.sync();
      await file.close();
      file = undefined;

      const key = meter.digest();
      const target = this.pathOf(key);
      if (await exists(target)) {
        await unlink(tmpPath);
      } else {
        const shardDir = join(target, "..");
        const created = await mkdir(shardDir, { recursive: true });
        // A new shard directory must itself be durable in its parent, up to the blobs root.
        if (created !== undefined) {
          await fsyncDir(join(shardDir, ".."));
          await fsyncDir(this.blobsDir);
        }
        await rename(tmpPath, target);
        await fsyncDir(shardDir);
      }
      return { key, sha256: key, size: meter.size };
    } catch (err) {
      await file?.close().catch(() => undefined);
      await unlink(tmpPath).catch(() => undefined);
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    const file = await this.openBlob(key);
    return file.createReadStream();
  }

  async getRange(key: string, start: number, end: number): Promise<Readable> {
    checkRange(start, end);
    const file = await this.openBlob(key);
    try {
      const { size } = await file.stat();
      const last = Math.min(end, size - 1);
      if (start > last) {
        await file.close();
        return Readable.from([]);
      }
      return file.createReadStream({ start, end: last });
    } catch (err) {
      await file.close().catch(() => undefined);
      throw err;
    }
  }

  async stat(key: string): Promise<BlobStat | null> {
    if (!isBlobKey(key)) return null;
    try {
      const s = await stat(this.pathOf(key));
      return { key, size: s.size };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    try {
      await unlink(this.pathOf(key));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async ping(): Promise<void> {
    await access(this.dir, constants.R_OK | constants.W_OK);
  }

  /** Removes temp files older than `olderThanMs` (default: the store's staleTempMs); returns how many. */
  async removeStaleTemp(olderThanMs = this.options.staleTempMs ?? DEFAULT_STALE_TEMP_MS): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    for (const name of await readdir(this.tmpDir)) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      const path = join(this.tmpDir, name);
      try {
        if ((await stat(path)).mtimeMs < cutoff) {
          await unlink(path);
          removed++;
        }
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return removed;
  }

  /** Where a blob's file lives: fan-out by the first two bytes keeps directories small. */
  pathOf(key: string): string {
    return join(this.blobsDir, key.slice(0, 2), key.slice(2, 4), key);
  }

  private ensureDirs(): Promise<void> {
    this.dirsReady ??= (async () => {
      await mkdir(this.blobsDir, { recursive: true });
      await mkdir(this.tmpDir, { recursive: true });
    })();
    return this.dirsReady;
  }

  /** Opening first turns a missing blob into BlobNotFoundError before any stream exists; an open file stays readable even if the blob is deleted meanwhile. */
  private async openBlob(key: string): Promise<FileHandle> {
    if (!isBlobKey(key)) throw new BlobNotFoundError(key);
    try {
      return await open(this.pathOf(key), "r");
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }
}

async function writeAll(file: FileHandle, chunk: Buffer): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    offset += bytesWritten;
  }
}

async function fsyncDir(path: string): Promise<void> {
  const dir = await open(path, "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === "ENOENT";
}
