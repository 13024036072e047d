import { test } from "node:test";
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parseMessage } from "@postline/mime";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** Heap plus buffers in use after a full collection. */
function memoryInUse(): number {
  // Twice: buffers' backing stores are released by the collection after the one that found them unreachable.
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Sampler {
  peak: number;
  sample(): void;
}

function sampler(): Sampler {
  const s = { peak: 0, sample: () => (s.peak = Math.max(s.peak, memoryInUse())) };
  return s;
}

const MB = 1024 * 1024;

test("a 50 MB message streams through with flat memory and exact offsets", async (t) => {
  const head = Buffer.from(
    "From: big@example.com\r\nTo: you@example.net\r\nSubject: big one\r\nContent-Type: multipart/mixed; boundary=BIG\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--BIG\r\n",
  );
  const attHeader = Buffer.from("Content-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n");
  const line = Buffer.from(`${"QUJD".repeat(19)}\r\n`); // 78 bytes
  const block = Buffer.concat(Array.from({ length: 840 }, () => line)); // 65,520 bytes
  const blocks = Math.ceil((50 * MB) / block.length);
  const tail = Buffer.from("\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nafter\r\n--BIG--\r\n");
  const attStart = head.length;
  const attBodyStart = attStart + attHeader.length;
  const attBodyEnd = attBodyStart + blocks * block.length; // the tail's leading CRLF belongs to the boundary

  const mem = sampler();
  const before = memoryInUse();
  async function* source(): AsyncGenerator<Buffer> {
    yield head;
    yield attHeader;
    for (let i = 0; i < blocks; i++) {
      // Fresh buffers, as a network or blob stream would give.
      yield Buffer.from(block);
      if (i % 80 === 0) mem.sample();
    }
    yield tail;
  }
  const started = performance.now();
  const s = await parseMessage(source());
  const ms = performance.now() - started;
  mem.sample();

  const total = attBodyEnd + tail.length;
  assert.equal(s.size, total);
  const att = s.body.children![1]!;
  assert.deepEqual([att.headerStart, att.bodyStart, att.bodyEnd], [attStart, attBodyStart, attBodyEnd]);
  assert.equal(att.size, blocks * block.length);
  assert.equal(att.lines, blocks * 840);
  const after = s.body.children![2]!;
  assert.equal(after.bodyEnd - after.bodyStart, "after".length);
  assert.equal(after.bodyEnd, total - "\r\n--BIG--\r\n".length);

  const growth = mem.peak - before;
  t.diagnostic(`50 MB: ${Math.round(ms)} ms (${Math.round((total / MB / ms) * 1000)} MB/s), peak memory growth ${(growth / MB).toFixed(2)} MB`);
  assert.ok(growth < 4 * MB, `memory grew by ${growth} bytes`);
});

test("a 20 MB body without a single line break keeps memory flat too", async () => {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const n = Math.ceil((20 * MB) / chunk.length);
  const mem = sampler();
  const before = memoryInUse();
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--");
    for (let i = 0; i < n; i++) {
      yield Buffer.from(chunk);
      if (i % 40 === 0) mem.sample();
    }
  }
  const s = await parseMessage(source());
  mem.sample();
  const part = s.body.children![0]!;
  assert.equal(part.bodyEnd, s.size);
  assert.equal(part.size, n * chunk.length + 2);
  assert.ok(mem.peak - before < 4 * MB, `memory grew by ${mem.peak - before} bytes`);
});

test("a header line of 20 MB is bounded as well", async () => {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const n = Math.ceil((20 * MB) / chunk.length);
  const mem = sampler();
  const before = memoryInUse();
  async function* source(): AsyncGenerator<Buffer> {
    yield Buffer.from("Subject: ok\r\nX-Long: ");
    for (let i = 0; i < n; i++) {
      yield Buffer.from(chunk);
      if (i % 40 === 0) mem.sample();
    }
    yield Buffer.from("\r\n\r\nbody");
  }
  const s = await parseMessage(source());
  mem.sample();
  assert.equal(s.envelope.subject, "ok");
  assert.equal(s.body.headerTruncated, true);
  assert.equal(s.body.size, 4);
  assert.ok(mem.peak - before < 4 * MB, `memory grew by ${mem.peak - before} bytes`);
});
