import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandReceiver, type Received } from "../src/imap/protocol/receiver.ts";
import { LIMITS, receiveAll } from "./protocol-helpers.ts";

function receiver(limits: Partial<typeof LIMITS> = {}): { r: CommandReceiver; continues: () => number } {
  let n = 0;
  const r = new CommandReceiver({ ...LIMITS, ...limits, continueLiteral: () => n++ });
  return { r, continues: () => n };
}

const tagOf = (x: Received): string | null =>
  x.kind === "request" ? x.request.tag : x.kind === "failure" ? x.failure.tag : "END";

/** Resolves to the value, or "pending" when the promise has not settled after the pending I/O callbacks. */
async function settled<T>(p: Promise<T>): Promise<T | "pending"> {
  return Promise.race([p, new Promise<"pending">((resolve) => setImmediate(() => resolve("pending")))]);
}

describe("CommandReceiver", () => {
  it("reads pipelined commands from one chunk and from one-byte chunks", async () => {
    const wire = "a1 NOOP\r\na2 LOGIN {5}\r\nalice {3+}\r\npwd\r\na3 SELECT INBOX\r\n";
    const whole = await receiveAll(wire);
    assert.deepEqual(whole.received.map(tagOf), ["a1", "a2", "a3"]);
    assert.equal(whole.continues, 1);

    const { r, continues } = receiver();
    const results: Received[] = [];
    const reading = (async () => {
      for (let i = 0; i < 3; i++) results.push(await r.next());
    })();
    for (const byte of Buffer.from(wire)) r.push(Buffer.from([byte]));
    await reading;
    assert.deepEqual(results.map(tagOf), ["a1", "a2", "a3"]);
    assert.deepEqual(results[1], { kind: "request", request: { tag: "a2", command: { name: "LOGIN", user: "alice", password: "pwd" } } });
    assert.equal(continues(), 1);
  });

  it("asks for a synchronising literal only when its line has arrived, and waits for all of its octets", async () => {
    const { r, continues } = receiver();
    const next = r.next();
    r.push(Buffer.from("a APPEND INBOX {10}"));
    assert.equal(continues(), 0);
    r.push(Buffer.from("\r\n"));
    assert.equal(continues(), 1);
    r.push(Buffer.from("12345"));
    assert.equal(await settled(next), "pending");
    assert.equal(r.waiting, true);
    r.push(Buffer.from("67890\r\n"));
    const got = await next;
    assert.ok(got.kind === "request" && got.request.command.name === "APPEND");
    assert.equal(got.request.command.messages[0]!.content.toString(), "1234567890");
    assert.equal(r.buffered, 0);
  });

  it("accepts bare LF line ends and skips empty lines between commands", async () => {
    const { received } = await receiveAll("\r\n\r\na NOOP\nb NOOP\r\n");
    assert.deepEqual(received.map(tagOf), ["a", "b"]);
  });

  it("answers an over-long line with a failure, keeps memory bounded and reads the next command", async () => {
    const { r } = receiver({ maxLineLength: 1000 });
    const next = r.next();
    r.push(Buffer.from("t1 LOGIN "));
    let maxBuffered = 0;
    for (let i = 0; i < 500; i++) {
      r.push(Buffer.alloc(100, 0x61));
      maxBuffered = Math.max(maxBuffered, r.buffered);
    }
    assert.ok(maxBuffered <= 1000 + 100 + 2, `buffered ${maxBuffered}`);
    assert.equal(await settled(next), "pending");
    r.push(Buffer.from("aaa\r\nt2 NOOP\r\n"));
    assert.deepEqual(await next, { kind: "failure", failure: { tag: "t1", text: "command line too long" }, fatal: false });
    assert.deepEqual(await r.next(), { kind: "request", request: { tag: "t2", command: { name: "NOOP" } } });
  });

  it("refuses an over-limit synchronising literal with [TOOBIG], without a continuation, and goes on", async () => {
    const { r, continues } = receiver({ maxLiteralSize: 100 });
    r.push(Buffer.from("a APPEND INBOX {101}\r\nb NOOP\r\n"));
    const first = await r.next();
    assert.ok(first.kind === "failure" && !first.fatal && first.failure.tag === "a");
    assert.match(first.failure.text, /^\[TOOBIG\]/);
    assert.equal(continues(), 0);
    assert.equal(tagOf(await r.next()), "b");
    const huge = await receiveAll("c APPEND INBOX {99999999999999999999}\r\nd NOOP\r\n");
    assert.deepEqual(huge.received.map((x) => x.kind), ["failure", "request"]);
  });

  it("closes on an over-limit non-synchronising literal (fatal), and then reports the end", async () => {
    const { r, continues } = receiver({ maxLiteralSize: 100 });
    r.push(Buffer.from(`a APPEND INBOX {200+}\r\n${"x".repeat(200)}\r\nb NOOP\r\n`));
    const first = await r.next();
    assert.ok(first.kind === "failure" && first.fatal);
    assert.match(first.failure.text, /^\[TOOBIG\]/);
    assert.equal(continues(), 0);
    assert.deepEqual(await r.next(), { kind: "end" });
    assert.equal(await r.nextLine(), null);
  });

  it("bounds a whole command across several literals by maxCommandSize", async () => {
    const { r, continues } = receiver({ maxLiteralSize: 100, maxCommandSize: 150 });
    r.push(Buffer.from(`a LOGIN {80}\r\n${"u".repeat(80)} {80}\r\n`));
    const first = await r.next();
    assert.ok(first.kind === "failure" && !first.fatal);
    assert.match(first.failure.text, /^\[TOOBIG\] command too large/);
    assert.equal(continues(), 1);
  });

  it("hands out raw lines for IDLE and AUTHENTICATE without parsing them", async () => {
    const { r } = receiver();
    r.push(Buffer.from("a IDLE\r\nDONE\r\nb AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\nc NOOP\r\n"));
    assert.equal(tagOf(await r.next()), "a");
    assert.equal(await r.nextLine(), "DONE");
    assert.equal(tagOf(await r.next()), "b");
    assert.equal(await r.nextLine(), "AGFsaWNlAHB3");
    assert.equal(tagOf(await r.next()), "c");
    r.end();
    assert.equal(await r.nextLine(), null);
    assert.deepEqual(await r.next(), { kind: "end" });
  });

  it("reads an over-long continuation line as '*'", async () => {
    const { r } = receiver({ maxLineLength: 10 });
    r.push(Buffer.from(`${"A".repeat(50)}\r\nshort\r\n`));
    assert.equal(await r.nextLine(), "*");
    assert.equal(await r.nextLine(), "short");
  });

  it("drops a partial command at the end of the stream", async () => {
    const { received } = await receiveAll("a NOOP\r\nb APPEND INBOX {10}\r\n12345");
    assert.deepEqual(received.map(tagOf), ["a"]);
    const { r } = receiver();
    const pending = r.next();
    r.push(Buffer.from("x NOO"));
    r.end();
    assert.deepEqual(await pending, { kind: "end" });
  });

  it("discards bytes received before STARTTLS completed (command injection defence)", async () => {
    const { r } = receiver();
    r.push(Buffer.from("a STARTTLS\r\nb LOGIN injected x\r\n"));
    assert.equal(tagOf(await r.next()), "a");
    assert.ok(r.buffered > 0);
    r.reset();
    assert.equal(r.buffered, 0);
    r.push(Buffer.from("c NOOP\r\n"));
    assert.equal(tagOf(await r.next()), "c");
  });

  it("assembles a large literal from many chunks exactly", async () => {
    const { r } = receiver({ maxLiteralSize: 8 << 20, maxCommandSize: 9 << 20 });
    const body = Buffer.alloc(5 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + (i >> 10)) & 0xff;
    const next = r.next();
    r.push(Buffer.from(`a APPEND INBOX (\\Seen) ~{${body.length}}\r\n`));
    const started = Date.now();
    for (let off = 0; off < body.length; off += 1000) {
      r.push(body.subarray(off, off + 1000));
      assert.ok(r.buffered <= 1000, `buffered ${r.buffered}`);
    }
    r.push(Buffer.from("\r\n"));
    const got = await next;
    assert.ok(got.kind === "request" && got.request.command.name === "APPEND");
    assert.ok(got.request.command.messages[0]!.content.equals(body));
    assert.ok(Date.now() - started < 5000, "linear-time assembly");
  });

  it("serves calls in order when several are outstanding", async () => {
    const { r } = receiver();
    const a = r.next();
    const b = r.next();
    r.push(Buffer.from("x NOOP\r\ny NOOP\r\n"));
    assert.deepEqual([tagOf(await a), tagOf(await b)], ["x", "y"]);
  });
});
