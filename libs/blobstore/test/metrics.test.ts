import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { Registry } from "prom-client";
import { dropBucket, metricSamples, s3AdminClient, testInfra, uniqueName, type MetricSample } from "@postline/testkit";
import { BlobNotFoundError, FsBlobStore, openBlobStore, withBlobMetrics, type BlobStore, type BlobStoreConfig } from "../src/index.ts";
import { blobStoreContract } from "./blobstore-contract.ts";
import { MiB, readAll } from "./helpers.ts";

async function samples(registry: Registry, name: string): Promise<MetricSample[]> {
  const s = await metricSamples(registry, name);
  assert.ok(registry.getSingleMetric(name), `${name} is registered`);
  return s;
}

async function opCounts(registry: Registry): Promise<Record<string, number>> {
  const s = await samples(registry, "postline_blob_op_seconds");
  return Object.fromEntries(s.filter((x) => x.metricName === "postline_blob_op_seconds_count").map((x) => [String(x.labels.op), x.value]));
}

async function bytes(registry: Registry): Promise<Record<string, number>> {
  return Object.fromEntries((await samples(registry, "postline_blob_bytes_total")).map((x) => [String(x.labels.direction), x.value]));
}

// The metrics wrapper keeps every promise of the BlobStore contract.
blobStoreContract(
  "FsBlobStore with metrics",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    const store = withBlobMetrics(await FsBlobStore.open(dir), new Registry());
    const files = async () => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
    return {
      store,
      listKeys: async () => (await files()).filter((f) => !f.startsWith("tmp/")).map((f) => f.split("/").at(-1) ?? ""),
      listTemp: async () => readdir(join(dir, "tmp")),
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { largeBlobBytes: 3 * MiB },
);

async function exercise(store: BlobStore, registry: Registry): Promise<void> {
  const content = Buffer.alloc(300_000, "metrics ");
  const ref = await store.put(content);
  const small = await store.put(Buffer.from(`small ${uniqueName("b")}`));
  assert.deepEqual(await bytes(registry), { put: content.length + small.size });

  assert.deepEqual(await readAll(await store.get(ref.key)), content);
  assert.equal((await readAll(await store.getRange(ref.key, 10, 19))).length, 10);
  assert.equal((await store.stat(ref.key))?.size, content.length);
  await store.delete(small.key);
  await assert.rejects(store.get(small.key), BlobNotFoundError);

  assert.deepEqual(await opCounts(registry), { put: 2, get: 2, get_range: 1, stat: 1, delete: 1 });
  assert.deepEqual(await bytes(registry), { put: content.length + small.size, get: content.length + 10 });
  const putSum = (await samples(registry, "postline_blob_op_seconds")).find((x) => x.metricName === "postline_blob_op_seconds_sum" && x.labels.op === "put")!;
  assert.ok(putSum.value > 0 && putSum.value < 60);
}

describe("blob store metrics", () => {
  it("filesystem store: op durations and bytes put and read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    const registry = new Registry();
    try {
      await exercise(await openBlobStore({ kind: "fs", dir }, registry), registry);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("S3 store (MinIO): the same metrics", async () => {
    const { s3 } = testInfra();
    const bucket = uniqueName("pl-metrics").toLowerCase().replaceAll("_", "-");
    const config: BlobStoreConfig = { kind: "s3", endpoint: s3.endpoint, region: s3.region, bucket, accessKey: s3.accessKey, secretKey: s3.secretKey };
    const registry = new Registry();
    try {
      await exercise(await openBlobStore(config, registry), registry);
    } finally {
      await dropBucket(s3AdminClient(), bucket);
    }
  });

  it("a read stream destroyed early counts only what was read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    const registry = new Registry();
    try {
      const store = await openBlobStore({ kind: "fs", dir }, registry);
      const { key } = await store.put(Buffer.alloc(2 * MiB, 7));
      const stream = await store.get(key);
      let read = 0;
      for await (const chunk of stream) {
        read += (chunk as Buffer).length;
        break; // destroys the stream
      }
      assert.ok(read > 0 && read < 2 * MiB);
      const got = (await bytes(registry)).get!;
      assert.ok(got >= read && got < 2 * MiB, `counted ${got}, read ${read}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a read stream passes on its source's error, and destroying it destroys the source", async () => {
    let source = new PassThrough();
    const fake: BlobStore = {
      kind: "fs",
      put: () => Promise.reject(new Error("not used")),
      get: () => Promise.resolve(source),
      getRange: () => Promise.resolve(source),
      stat: () => Promise.resolve(null),
      delete: () => Promise.resolve(),
      ping: () => Promise.resolve(),
    };
    const store = withBlobMetrics(fake, new Registry());

    const failing = await store.get("k");
    source.write("some bytes ");
    source.destroy(new Error("connection reset"));
    await assert.rejects(readAll(failing), /connection reset/);

    source = new PassThrough();
    const dropped = await store.getRange("k", 0, 9);
    source.write("more bytes");
    dropped.destroy();
    await once(source, "close");
    assert.ok(source.destroyed);
  });
});
