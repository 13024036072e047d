import { createHash, randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function sha256Stream(stream: Readable): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/** Random content cut into chunks, yielded with a pause before each; `pulled` counts chunks taken. */
export function slowSource(content: Buffer, chunkSize: number, delayMs: number): { source: AsyncIterable<Uint8Array>; pulled: () => number } {
  let pulled = 0;
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < content.length; offset += chunkSize) {
      if (delayMs > 0) await sleep(delayMs);
      pulled++;
      yield content.subarray(offset, offset + chunkSize);
    }
  }
  return { source: gen(), pulled: () => pulled };
}

/**
 * `totalBytes` of random data generated chunk by chunk (never held whole); `digest()` is the sha256 of
 * what was produced, available once the source has been read to its end.
 */
export function generatedSource(totalBytes: number, chunkSize = 64 * 1024): { source: AsyncIterable<Uint8Array>; digest: () => string } {
  const hash = createHash("sha256");
  let digest: string | undefined;
  async function* gen(): AsyncGenerator<Uint8Array> {
    for (let left = totalBytes; left > 0; left -= chunkSize) {
      const chunk = randomBytes(Math.min(chunkSize, left));
      hash.update(chunk);
      yield chunk;
    }
    digest = hash.digest("hex");
  }
  return {
    source: gen(),
    digest: () => {
      if (digest === undefined) throw new Error("source not read to the end");
      return digest;
    },
  };
}

/** A full garbage collection, exposed without needing node to be started with --expose-gc. */
function collectGarbage(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/**
 * Samples process memory while `work` runs and returns the peak growth over the starting point:
 * `live` is heap + Buffers right after a forced GC (what the code really holds; garbage excluded),
 * `rss` the resident set (reported for information: the allocator keeps freed pages).
 */
export async function peakMemoryGrowth<T>(work: () => Promise<T>): Promise<{ result: T; live: number; rss: number }> {
  const gc = collectGarbage();
  const liveNow = () => {
    // The second collection waits for the first one's sweeping, which frees dead Buffers' memory.
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const startLive = liveNow();
  const startRss = process.memoryUsage().rss;
  let peakLive = startLive;
  let peakRss = startRss;
  const timer = setInterval(() => {
    peakLive = Math.max(peakLive, liveNow());
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 200);
  try {
    const result = await work();
    return { result, live: peakLive - startLive, rss: peakRss - startRss };
  } finally {
    clearInterval(timer);
  }
}

export const MiB = 1024 * 1024;
