import { Transform, type Readable } from "node:stream";
import { Counter, Histogram, type Registry } from "prom-client";
import type { BlobStore } from "./blobstore.ts";

export type BlobOp = "put" | "get" | "get_range" | "stat" | "delete";

/** The blob store metrics on one registry (created once; several stores on one registry share them). */
export interface BlobMetrics {
  opSeconds: Histogram<"op">;
  bytes: Counter<"direction">;
}

/** A millisecond to a minute: stats and small gets are ms, puts of large messages take longer. */
const OP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function blobMetrics(registry: Registry): BlobMetrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    opSeconds: get(
      "postline_blob_op_seconds",
      () =>
        new Histogram({
          name: "postline_blob_op_seconds",
          help: "Blob store operations (put: the whole upload; get, get_range: until the stream is there, i.e. time to first byte)",
          labelNames: ["op"],
          buckets: OP_BUCKETS,
          registers: [registry],
        }),
    ),
    bytes: get(
      "postline_blob_bytes_total",
      () =>
        new Counter({
          name: "postline_blob_bytes_total",
          help: "Bytes stored (direction=put) and read (direction=get, counted as the streams are read)",
          labelNames: ["direction"],
          registers: [registry],
        }),
    ),
  };
}

/** Adds metrics to any BlobStore: the duration of each operation and the bytes put and read. */
export function withMetrics(store: BlobStore, registry: Registry): BlobStore {
  const m = blobMetrics(registry);
  const timed = async <T>(op: BlobOp, fn: () => Promise<T>): Promise<T> => {
    const end = m.opSeconds.startTimer({ op });
    try {
      return await fn();
    } finally {
      end();
    }
  };
  const counted = (source: Readable): Readable => {
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        m.bytes.inc({ direction: "get" }, chunk.length);
        callback(null, chunk);
      },
    });
    // Errors of the source reach the reader; destroying the returned stream destroys the source.
    // Wired by hand: stream.pipeline builds an AbortError (with its stack) for every stream it
    // finishes, a cost the spam filter paid on every message it read.
    source.on("error", (err) => counter.destroy(err));
    counter.on("close", () => source.destroy());
    return source.pipe(counter);
  };
  return {
    kind: store.kind,
    ping: () => store.ping(),
    async put(source, options) {
      const ref = await timed("put", () => store.put(source, options));
      m.bytes.inc({ direction: "put" }, ref.size);
      return ref;
    },
    async get(key) {
      return counted(await timed("get", () => store.get(key)));
    },
    async getRange(key, start, end) {
      return counted(await timed("get_range", () => store.getRange(key, start, end)));
    },
    stat: (key) => timed("stat", () => store.stat(key)),
    delete: (key) => timed("delete", () => store.delete(key)),
  };
}
