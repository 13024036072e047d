import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandReceiver, type Received } from "../src/imap/protocol/receiver.ts";
import { COMMAND_NAMES, generateCommands, prng } from "./protocol-fuzz-input.ts";

const LIMITS = { maxLineLength: 1024, maxLiteralSize: 4096, maxCommandSize: 8192 };

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Streams `input` into a receiver in random chunks while a reader keeps one next() outstanding, as a
 * session does; checks the memory bounds after every chunk and returns everything received.
 */
async function run(input: Buffer, seed: number): Promise<{ received: Received[]; maxBuffered: number; maxAssembling: number }> {
  const rand = prng(seed);
  let continues = 0;
  const r = new CommandReceiver({ ...LIMITS, continueLiteral: () => continues++ });
  const received: Received[] = [];
  let done = false;
  const reader = (async () => {
    for (let i = 0; i < input.length + 10; i++) {
      const got = await r.next();
      if (got.kind === "end") break;
      received.push(got);
      if (got.kind === "failure" && got.fatal) break;
    }
    done = true;
  })();
  let maxBuffered = 0;
  let maxAssembling = 0;
  let off = 0;
  while (off < input.length && !done) {
    while (!r.waiting && !done) await macrotask();
    const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 16 : 4096));
    const chunk = input.subarray(off, off + size);
    off += chunk.length;
    r.push(chunk);
    maxBuffered = Math.max(maxBuffered, r.buffered);
    maxAssembling = Math.max(maxAssembling, r.assembling);
    assert.ok(r.buffered <= LIMITS.maxLineLength + 1 + chunk.length, `buffered ${r.buffered} after a ${chunk.length}-octet chunk`);
    assert.ok(r.assembling <= LIMITS.maxCommandSize + chunk.length, `assembling ${r.assembling}`);
  }
  r.end();
  const timeout = setTimeout(() => assert.fail("receiver did not terminate"), 20_000);
  await reader;
  clearTimeout(timeout);
  assert.ok(continues <= received.length + 64, "continuations only for announced literals");
  return { received, maxBuffered, maxAssembling };
}

function checkShape(items: Received[]): void {
  for (const item of items) {
    if (item.kind === "request") {
      assert.ok(COMMAND_NAMES.has(item.request.command.name), item.request.command.name);
      assert.ok(item.request.tag.length > 0 && !item.request.tag.includes(" "));
    } else if (item.kind === "failure") {
      assert.equal(typeof item.failure.text, "string");
      assert.ok(item.failure.text.length > 0 && !/[\r\n]/.test(item.failure.text), JSON.stringify(item.failure.text));
    }
  }
}

/** Lines the receiver must answer: LF-terminated, non-empty once a trailing CR is removed. */
function answerableLines(input: Buffer): number {
  let count = 0;
  let start = 0;
  for (let i = input.indexOf(10); i >= 0; i = input.indexOf(10, start)) {
    let len = i - start;
    if (len > 0 && input[i - 1] === 0x0d) len--;
    if (len > 0) count++;
    start = i + 1;
  }
  return count;
}

describe("protocol fuzz (seeded)", () => {
  it("every generated valid command parses when sent alone", async () => {
    const valid = generateCommands(1, 400).filter((c) => c.kind === "valid");
    assert.ok(valid.length > 100);
    for (const c of valid) {
      const { received } = await run(c.bytes, 7);
      assert.equal(received.length, 1, c.bytes.toString("latin1"));
      assert.equal(received[0]!.kind, "request", `${c.bytes.toString("latin1")} → ${JSON.stringify(received[0])}`);
    }
  });

  for (const seed of [11, 22, 33, 44, 55, 66]) {
    it(`streams of mixed input never throw, terminate and stay bounded (seed ${seed})`, async () => {
      const commands = generateCommands(seed, 1500);
      const kinds = new Set(commands.map((c) => c.kind));
      for (const kind of ["valid", "truncated", "oversized-literal", "unbalanced", "soup", "bytes", "long"]) assert.ok(kinds.has(kind), kind);
      let requests = 0;
      let failures = 0;
      let fatal = 0;
      // 30 "connections" of 50 inputs each: a fatal failure ends only its own stream
      for (let s = 0; s < commands.length; s += 50) {
        const input = Buffer.concat(commands.slice(s, s + 50).map((c) => c.bytes));
        const { received } = await run(input, seed * 1000 + s);
        checkShape(received);
        for (const item of received) {
          if (item.kind === "request") requests++;
          else if (item.kind === "failure") {
            failures++;
            if (item.fatal) fatal++;
          }
        }
      }
      if (process.env.FUZZ_STATS) console.log({ seed, requests, failures, fatal });
      assert.ok(requests > 100, `requests ${requests}`);
      assert.ok(failures > 100, `failures ${failures}`);
      assert.ok(fatal < 30, `fatal ${fatal}`);
    });
  }

  it("answers every complete line exactly once when no literal is announced", async () => {
    const rand = prng(99);
    for (let round = 0; round < 40; round++) {
      const lines = generateCommands(1000 + round, 60)
        .filter((c) => c.kind === "soup" || c.kind === "bytes" || c.kind === "unbalanced" || c.kind === "long")
        // strip literal announcements (a line ending in "}") so every line stands alone
        .map((c) => Buffer.from(c.bytes.toString("latin1").replace(/\}(\r?\n)/g, "}x$1").replace(/\}(\r?)$/, "}x$1"), "latin1"));
      const input = Buffer.concat(lines);
      const { received } = await run(input, Math.floor(rand() * 1e9));
      checkShape(received);
      assert.ok(received.every((x) => x.kind !== "failure" || !x.fatal));
      if (process.env.FUZZ_STATS && round < 3) console.log({ round, lines: answerableLines(input), bytes: input.length });
      assert.equal(received.length, answerableLines(input), `round ${round}`);
    }
  });

  it("random bytes of every length and chunking never throw", async () => {
    const rand = prng(2026);
    for (let round = 0; round < 200; round++) {
      const bytes = Buffer.alloc(Math.floor(rand() * 6000));
      for (let i = 0; i < bytes.length; i++) bytes[i] = rand() < 0.1 ? pickByte(rand) : Math.floor(rand() * 256);
      const { received } = await run(bytes, round);
      checkShape(received);
    }
  });
});

/** Octets that matter to the grammar, so random input reaches the interesting states. */
function pickByte(rand: () => number): number {
  const special = "{}~+\r\n()[]<>\" \\*%:,.$0123456789";
  return special.charCodeAt(Math.floor(rand() * special.length));
}
