import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BlobNotFoundError, BlobTooLargeError, type BlobStore } from "../src/index.ts";
import { MiB, generatedSource, peakMemoryGrowth, readAll, sha256, sha256Stream, slowSource } from "./helpers.ts";

export interface ContractTarget {
  store: BlobStore;
  /** Keys of every blob stored, to check that deduplicated content exists once. */
  listKeys(): Promise<string[]>;
  /** Whatever an unfinished or failed put could leave behind (temp files, temp objects, multipart uploads). */
  listTemp(): Promise<string[]>;
  teardown(): Promise<void>;
}

export interface ContractOptions {
  /** A size that takes the store's streaming path for big content (S3: more than one multipart part). */
  largeBlobBytes: number;
}

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** The behaviour every BlobStore promises; one suite run against each implementation. */
export function blobStoreContract(name: string, open: () => Promise<ContractTarget>, options: ContractOptions): void {
  describe(`BlobStore contract: ${name}`, () => {
    let target: ContractTarget;
    let store: BlobStore;

    before(async () => {
      target = await open();
      store = target.store;
    });
    after(async () => {
      await target?.teardown();
    });

    const assertNoTemp = async () => assert.deepEqual(await target.listTemp(), []);

    describe("put and get", () => {
      it("puts a Buffer and returns its sha256 and size", async () => {
        const content = randomBytes(1000);
        const ref = await store.put(content);
        assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size: 1000 });
        assert.deepEqual(await readAll(await store.get(ref.key)), content);
      });

      it("puts a Uint8Array view (byteOffset honoured)", async () => {
        const backing = randomBytes(300);
        const view = new Uint8Array(backing.buffer, backing.byteOffset + 100, 150);
        const ref = await store.put(view);
        assert.equal(ref.key, sha256(view));
        assert.equal(ref.size, 150);
        assert.deepEqual(await readAll(await store.get(ref.key)), Buffer.from(view));
      });

      it("puts a Readable", async () => {
        const parts = [randomBytes(10), randomBytes(70_000), randomBytes(3)];
        const content = Buffer.concat(parts);
        const ref = await store.put(Readable.from(parts));
        assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size: content.length });
        assert.deepEqual(await readAll(await store.get(ref.key)), content);
      });

      it("puts a Readable of strings", async () => {
        const ref = await store.put(Readable.from(["Subject: hi\r\n", "\r\n", "héllo\r\n"]));
        const content = Buffer.from("Subject: hi\r\n\r\nhéllo\r\n");
        assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size: content.length });
        assert.deepEqual(await readAll(await store.get(ref.key)), content);
      });

      it("puts an async iterable", async () => {
        const content = randomBytes(50_000);
        const { source } = slowSource(content, 4096, 0);
        const ref = await store.put(source);
        assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size: content.length });
        assert.deepEqual(await readAll(await store.get(ref.key)), content);
      });

      it("stores an empty blob", async () => {
        const ref = await store.put(Buffer.alloc(0));
        assert.deepEqual(ref, { key: EMPTY_SHA256, sha256: EMPTY_SHA256, size: 0 });
        assert.deepEqual(await store.stat(EMPTY_SHA256), { key: EMPTY_SHA256, size: 0 });
        assert.equal((await readAll(await store.get(EMPTY_SHA256))).length, 0);
        assert.equal((await readAll(await store.getRange(EMPTY_SHA256, 0, 10))).length, 0);
        const fromStream = await store.put(Readable.from([]));
        assert.equal(fromStream.key, EMPTY_SHA256);
      });

      it(`streams content over the big-content threshold (${(options.largeBlobBytes / MiB).toFixed(1)} MiB)`, async () => {
        const content = randomBytes(options.largeBlobBytes);
        const ref = await store.put(slowSource(content, 256 * 1024, 0).source);
        assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size: content.length });
        assert.equal(sha256(await readAll(await store.get(ref.key))), ref.key);
        await assertNoTemp();
      });
    });

    describe("getRange", () => {
      const content = randomBytes(1000);
      let key: string;
      before(async () => {
        key = (await store.put(content)).key;
      });
      const range = async (start: number, end: number) => readAll(await store.getRange(key, start, end));

      it("returns the first byte", async () => assert.deepEqual(await range(0, 0), content.subarray(0, 1)));
      it("returns a prefix", async () => assert.deepEqual(await range(0, 99), content.subarray(0, 100)));
      it("returns a middle slice, end inclusive", async () => assert.deepEqual(await range(100, 199), content.subarray(100, 200)));
      it("returns the tail", async () => assert.deepEqual(await range(990, 999), content.subarray(990)));
      it("returns the last byte", async () => assert.deepEqual(await range(999, 999), content.subarray(999)));
      it("clamps an end past the object", async () => assert.deepEqual(await range(990, 5000), content.subarray(990)));
      it("clamps a huge end", async () => assert.deepEqual(await range(0, Number.MAX_SAFE_INTEGER), content));
      it("is empty when the start is at or past the end", async () => {
        assert.equal((await range(1000, 2000)).length, 0);
        assert.equal((await range(5000, 6000)).length, 0);
      });
      it("is empty when end < start", async () => assert.equal((await range(10, 9)).length, 0));
      it("rejects negative or fractional offsets", async () => {
        await assert.rejects(store.getRange(key, -1, 10), RangeError);
        await assert.rejects(store.getRange(key, 0, 1.5), RangeError);
      });
      it("throws BlobNotFoundError for a missing blob, whatever the range", async () => {
        const missing = sha256(randomBytes(16));
        await assert.rejects(store.getRange(missing, 0, 10), BlobNotFoundError);
        await assert.rejects(store.getRange(missing, 10, 9), BlobNotFoundError);
        await assert.rejects(store.getRange(missing, 5000, 6000), BlobNotFoundError);
      });
    });

    describe("stat, delete and not found", () => {
      it("stats a stored blob", async () => {
        const content = randomBytes(777);
        const { key } = await store.put(content);
        assert.deepEqual(await store.stat(key), { key, size: 777 });
      });

      it("deletes, and deleting again is a no-op", async () => {
        const { key } = await store.put(randomBytes(100));
        await store.delete(key);
        assert.equal(await store.stat(key), null);
        await assert.rejects(store.get(key), BlobNotFoundError);
        await store.delete(key);
      });

      it("reports a missing blob: get throws BlobNotFoundError with the key, stat is null", async () => {
        const missing = sha256(randomBytes(16));
        await assert.rejects(store.get(missing), (err: unknown) => err instanceof BlobNotFoundError && err.key === missing);
        assert.equal(await store.stat(missing), null);
        await store.delete(missing);
      });

      it("treats a key that is not a sha256 as not found (never as a path)", async () => {
        for (const bad of ["../../etc/passwd", "ABC", "", `${"a".repeat(64)}/x`, "A".repeat(64)]) {
          await assert.rejects(store.get(bad), BlobNotFoundError);
          await assert.rejects(store.getRange(bad, 0, 1), BlobNotFoundError);
          assert.equal(await store.stat(bad), null);
          await store.delete(bad);
        }
      });

      it("pings", async () => {
        await store.ping();
      });
    });

    describe("deduplication", () => {
      it("stores the same content once under the same key", async () => {
        const content = randomBytes(5000);
        const a = await store.put(content);
        const b = await store.put(Readable.from([content.subarray(0, 10), content.subarray(10)]));
        assert.deepEqual(a, b);
        assert.equal((await target.listKeys()).filter((k) => k === a.key).length, 1);
        assert.deepEqual(await readAll(await store.get(a.key)), content);
        await assertNoTemp();
      });

      it("lets concurrent puts of the same content both succeed with the same key", async () => {
        for (const size of [20_000, options.largeBlobBytes]) {
          const content = randomBytes(size);
          const refs = await Promise.all([0, 1, 2].map(() => store.put(slowSource(content, 64 * 1024, 2).source)));
          for (const ref of refs) assert.deepEqual(ref, { key: sha256(content), sha256: sha256(content), size });
          assert.equal((await target.listKeys()).filter((k) => k === sha256(content)).length, 1);
          assert.equal(sha256(await readAll(await store.get(sha256(content)))), sha256(content));
        }
        await assertNoTemp();
      });
    });

    describe("maxBytes", () => {
      it("accepts content of exactly maxBytes", async () => {
        const content = randomBytes(2048);
        assert.equal((await store.put(content, { maxBytes: 2048 })).size, 2048);
      });

      it("rejects a Buffer over maxBytes and stores nothing", async () => {
        const content = randomBytes(2049);
        await assert.rejects(store.put(content, { maxBytes: 2048 }), (err: unknown) => err instanceof BlobTooLargeError && err.maxBytes === 2048);
        assert.equal(await store.stat(sha256(content)), null);
        await assertNoTemp();
      });

      it("stops reading a stream once it is over maxBytes, and stores nothing", async () => {
        const content = randomBytes(64 * 1024);
        const { source, pulled } = slowSource(content, 1024, 0);
        await assert.rejects(store.put(source, { maxBytes: 10_000 }), BlobTooLargeError);
        assert.ok(pulled() <= 11, `read ${pulled()} chunks after the limit`);
        assert.equal(await store.stat(sha256(content)), null);
        await assertNoTemp();
      });

      it("aborts big content once over maxBytes, mid-stream, and stores nothing", async () => {
        const content = randomBytes(options.largeBlobBytes);
        const limit = options.largeBlobBytes - 300 * 1024;
        await assert.rejects(store.put(slowSource(content, 128 * 1024, 0).source, { maxBytes: limit }), BlobTooLargeError);
        assert.equal(await store.stat(sha256(content)), null);
        await assertNoTemp();
      });
    });

    describe("failures", () => {
      it("propagates an error of the source and stores nothing", async () => {
        const sent = randomBytes(8192);
        async function* failing(): AsyncGenerator<Uint8Array> {
          yield sent;
          throw new Error("client went away");
        }
        await assert.rejects(store.put(failing()), /client went away/);
        assert.equal(await store.stat(sha256(sent)), null);
        await assertNoTemp();
      });

      it("propagates an error of big content mid-stream and stores nothing", async () => {
        const part = randomBytes(options.largeBlobBytes);
        async function* failing(): AsyncGenerator<Uint8Array> {
          for (let i = 0; i < part.length; i += 256 * 1024) yield part.subarray(i, i + 256 * 1024);
          throw new Error("connection reset");
        }
        await assert.rejects(store.put(failing()), /connection reset/);
        await assertNoTemp();
      });
    });

    describe("atomicity under concurrency", () => {
      for (const [label, size, chunk, delay] of [
        ["small", 200 * 1024, 8 * 1024, 10],
        ["big", options.largeBlobBytes, 256 * 1024, 15],
      ] as const) {
        it(`readers polling during a slow put of ${label} content see NotFound or the whole blob, never part of it`, async () => {
          const content = randomBytes(size);
          const key = sha256(content);
          let writerDone = false;
          const writer = store.put(slowSource(content, chunk, delay).source).finally(() => {
            writerDone = true;
          });
          const outcomes = { notFound: 0, complete: 0, rangeComplete: 0 };
          const reader = async () => {
            for (let afterDone = 0; afterDone < 2; ) {
              if (writerDone) afterDone++;
              try {
                const data = await readAll(await store.get(key));
                assert.equal(data.length, size, "a reader saw a partial blob");
                assert.equal(sha256(data), key, "a reader saw wrong content");
                outcomes.complete++;
                const tail = await readAll(await store.getRange(key, size - 1000, size + 1000));
                assert.deepEqual(tail, content.subarray(size - 1000));
                outcomes.rangeComplete++;
              } catch (err) {
                if (!(err instanceof BlobNotFoundError)) throw err;
                outcomes.notFound++;
                assert.equal(await store.stat(key).then((s) => s === null || s.size === size), true, "stat saw a partial size");
              }
              await sleep(3);
            }
          };
          const [ref] = await Promise.all([writer, reader(), reader(), reader()]);
          assert.equal(ref.key, key);
          assert.ok(outcomes.notFound > 0, "readers should have polled while the put was running");
          assert.ok(outcomes.complete >= 3, "every reader reads the blob once the put is done");
        });
      }
    });

    describe("memory", () => {
      const total = 64 * MiB;
      it(`puts and gets a ${total / MiB} MiB blob with flat memory`, async () => {
        const generated = generatedSource(total);
        const put = await peakMemoryGrowth(() => store.put(generated.source));
        assert.deepEqual(put.result, { key: generated.digest(), sha256: generated.digest(), size: total });

        const get = await peakMemoryGrowth(async () => sha256Stream(await store.get(put.result.key)));
        assert.equal(get.result, put.result.key);
        const mb = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
        console.log(
          `[${name}] ${mb(total)} blob: put peak growth live ${mb(put.live)} (rss ${mb(put.rss)}); ` +
            `get peak growth live ${mb(get.live)} (rss ${mb(get.rss)})`,
        );
        // Buffering the whole object would hold at least its size; streaming holds a few parts at most.
        for (const growth of [put.live, get.live]) assert.ok(growth < total / 4, `live memory grew by ${mb(growth)}`);
        for (const growth of [put.rss, get.rss]) assert.ok(growth < total, `rss grew by ${mb(growth)}`);
      });
    });
  });
}

