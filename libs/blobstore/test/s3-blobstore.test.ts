import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Client } from "minio";
import { dropBucket, s3AdminClient as adminClient, testInfra, uniqueName } from "@postline/testkit";
import { BlobNotFoundError, S3BlobStore, openBlobStore, type S3BlobStoreConfig } from "../src/index.ts";
import { blobStoreContract } from "./blobstore-contract.ts";
import { MiB, readAll, sha256 } from "./helpers.ts";

/** S3 bucket names allow lowercase letters, digits and dashes only. */
function uniqueBucket(): string {
  return uniqueName("pl-blobs").toLowerCase().replaceAll("_", "-");
}

function configFor(bucket: string): S3BlobStoreConfig {
  const { s3 } = testInfra();
  return { endpoint: s3.endpoint, region: s3.region, bucket, accessKey: s3.accessKey, secretKey: s3.secretKey };
}

async function objectNames(client: Client, bucket: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, true)) if (item.name) names.push(item.name);
  return names;
}

/** MinIO matches a ListMultipartUploads prefix against whole names only, so list all and filter. */
async function incompleteUploads(client: Client, bucket: string, prefix: string): Promise<string[]> {
  const { uploads } = await client.listIncompleteUploadsQuery(bucket, "", "", "", "");
  return uploads.filter((u) => u.key.startsWith(prefix)).map((u) => `${u.key} (upload ${u.uploadId})`);
}

blobStoreContract(
  "S3BlobStore",
  async () => {
    const bucket = uniqueBucket();
    const client = adminClient();
    const store = await S3BlobStore.open(configFor(bucket));
    return {
      store,
      listKeys: async () => (await objectNames(client, bucket, "blobs/")).map((n) => n.slice("blobs/".length)),
      listTemp: async () => [...(await objectNames(client, bucket, "tmp/")), ...(await incompleteUploads(client, bucket, "tmp/"))],
      teardown: () => dropBucket(client, bucket),
    };
  },
  // Over two 5 MiB parts, so big content goes through the multipart upload and the server-side copy.
  { largeBlobBytes: 12 * MiB },
);

describe("S3BlobStore bucket and recovery", () => {
  it("creates its bucket at open, and opening again is harmless", async () => {
    const bucket = uniqueBucket();
    const client = adminClient();
    try {
      assert.equal(await client.bucketExists(bucket), false);
      const stores = await Promise.all([openBlobStore({ kind: "s3", ...configFor(bucket) }), S3BlobStore.open(configFor(bucket))]);
      assert.equal(await client.bucketExists(bucket), true);
      for (const store of stores) {
        assert.equal(store.kind, "s3");
        await store.ping();
      }
      const { key } = await stores[0].put(Buffer.from("hello"));
      assert.deepEqual(await readAll(await stores[1].get(key)), Buffer.from("hello"));
      assert.deepEqual(await objectNames(client, bucket, ""), [`blobs/${key}`]);
    } finally {
      await dropBucket(client, bucket);
    }
  });

  it("ping fails when the bucket is gone", async () => {
    const bucket = uniqueBucket();
    const client = adminClient();
    const store = await S3BlobStore.open(configFor(bucket));
    await dropBucket(client, bucket);
    await assert.rejects(store.ping());
  });

  it("removes tmp/ objects and multipart uploads left by crashed puts, keeping blobs", async () => {
    const bucket = uniqueBucket();
    const client = adminClient();
    try {
      const store = await S3BlobStore.open(configFor(bucket));
      const { key } = await store.put(Buffer.from("kept"));
      await client.putObject(bucket, "tmp/crashed-after-complete", Buffer.from("partial"));
      await client.initiateNewMultipartUpload(bucket, "tmp/crashed-mid-upload", {});

      // Fresh left-overs may belong to a put still running elsewhere: the default age keeps them.
      const reopened = await S3BlobStore.open(configFor(bucket));
      assert.equal((await objectNames(client, bucket, "tmp/")).length, 1);
      assert.equal((await incompleteUploads(client, bucket, "tmp/")).length, 1);

      assert.equal(await reopened.removeStaleTemp(0), 2);
      assert.deepEqual(await objectNames(client, bucket, ""), [`blobs/${key}`]);
      assert.deepEqual(await incompleteUploads(client, bucket, "tmp/"), []);
      assert.equal(sha256(await readAll(await reopened.get(key))), sha256(Buffer.from("kept")));
    } finally {
      await dropBucket(client, bucket);
    }
  });

  it("maps a missing bucket object to BlobNotFoundError, not a generic S3 error", async () => {
    const bucket = uniqueBucket();
    const client = adminClient();
    try {
      const store = await S3BlobStore.open(configFor(bucket));
      const missing = sha256(Buffer.from("never stored"));
      await assert.rejects(store.get(missing), BlobNotFoundError);
      await assert.rejects(store.getRange(missing, 3, 5), BlobNotFoundError);
    } finally {
      await dropBucket(client, bucket);
    }
  });
});
