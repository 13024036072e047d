import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { FsBlobStore, blobStoreConfig, openBlobStore } from "../src/index.ts";
import { platformSchema } from "@postline/config";
import { blobStoreContract } from "./blobstore-contract.ts";
import { MiB, readAll, sha256 } from "./helpers.ts";

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

blobStoreContract(
  "FsBlobStore",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    const store = await FsBlobStore.open(dir);
    return {
      store,
      listKeys: async () => (await filesUnder(dir)).filter((f) => !f.startsWith("tmp/")).map((f) => f.split("/").at(-1) ?? ""),
      listTemp: async () => readdir(join(dir, "tmp")),
      teardown: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { largeBlobBytes: 12 * MiB },
);

describe("FsBlobStore layout and recovery", () => {
  it("stores a blob at <dir>/ab/cd/<sha256>", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    try {
      const store = await FsBlobStore.open(dir);
      const { key } = await store.put(Buffer.from("hello"));
      assert.deepEqual(await filesUnder(dir), [join(key.slice(0, 2), key.slice(2, 4), key)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("removes temp files of crashed puts at open, keeping recent ones and the blobs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    try {
      const first = await FsBlobStore.open(dir);
      const { key } = await first.put(Buffer.from("kept"));
      const old = join(dir, "tmp", "1-dead.tmp");
      const recent = join(dir, "tmp", "2-live.tmp");
      await writeFile(old, "partial");
      await writeFile(recent, "in progress");
      const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
      await utimes(old, twoHoursAgo, twoHoursAgo);

      const reopened = await FsBlobStore.open(dir, { staleTempMs: 60 * 60 * 1000 });
      assert.deepEqual(await readdir(join(dir, "tmp")), ["2-live.tmp"]);
      assert.deepEqual(await readAll(await reopened.get(key)), Buffer.from("kept"));
      assert.equal(await reopened.removeStaleTemp(0), 1);
      assert.deepEqual(await readdir(join(dir, "tmp")), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps serving an opened blob that is deleted while being read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    try {
      const store = await FsBlobStore.open(dir);
      const content = Buffer.alloc(3 * MiB, 7);
      const { key } = await store.put(content);
      const stream = await store.get(key);
      await store.delete(key);
      assert.equal(sha256(await readAll(stream)), key);
      await assert.rejects(stat(store.pathOf(key)), { code: "ENOENT" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("openBlobStore and blobStoreConfig", () => {
  it("opens a filesystem store from config", async () => {
    const dir = await mkdtemp(join(tmpdir(), "postline-blobstore-"));
    try {
      const store = await openBlobStore({ kind: "fs", dir: join(dir, "nested", "blobs") });
      assert.equal(store.kind, "fs");
      await store.ping();
      const { key } = await store.put(Buffer.from("x"));
      assert.deepEqual(await store.stat(key), { key, size: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("maps the platform config: standalone → <data dir>/blobs, cluster → S3", () => {
    assert.deepEqual(blobStoreConfig(platformSchema.parse({ POSTLINE_DATA_DIR: "/var/lib/postline" })), { kind: "fs", dir: "/var/lib/postline/blobs" });
    const cluster = platformSchema.parse({
      POSTLINE_MODE: "cluster",
      POSTLINE_DATABASE_URL: "postgres://db/postline",
      POSTLINE_KAFKA_BROKERS: "kafka:9092",
      POSTLINE_S3_ENDPOINT: "http://minio:9000",
      POSTLINE_S3_ACCESS_KEY: "ak",
      POSTLINE_S3_SECRET_KEY: "sk",
    });
    assert.deepEqual(blobStoreConfig(cluster), {
      kind: "s3",
      endpoint: "http://minio:9000",
      region: "us-east-1",
      bucket: "postline",
      accessKey: "ak",
      secretKey: "sk",
    });
  });
});
