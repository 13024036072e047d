import { test } from "node:test";
import assert from "node:assert/strict";
import { HEADER_LIMIT, allParts, parseMessage, parseMessageBuffer, type MessageStructure, type MimePart } from "@postline/mime";
import { chunked } from "./fixture-builder.ts";
import { allFixtures } from "./fixtures.ts";

/** What must hold for any input, however broken. */
function assertWellFormed(s: MessageStructure, input: Buffer): void {
  assert.equal(s.size, input.length);
  assert.equal(s.body.headerStart, 0);
  assert.equal(s.body.bodyEnd, input.length);
  const check = (p: MimePart): void => {
    assert.ok(0 <= p.headerStart && p.headerStart <= p.bodyStart && p.bodyStart <= p.bodyEnd && p.bodyEnd <= input.length, `offsets of ${p.partId}`);
    assert.equal(p.size, p.bodyEnd - p.bodyStart);
    assert.ok(p.lines >= 0 && p.lines <= p.size);
    assert.match(p.type, /^[a-z0-9!#$%&'*+.^_`{|}~-]+$/);
    if (p.type === "multipart") assert.ok(p.children && p.children.length > 0, "a multipart has children");
    let prevEnd = p.bodyStart;
    for (const c of p.children ?? []) {
      assert.ok(c.headerStart >= prevEnd && c.bodyEnd <= p.bodyEnd, `child ${c.partId} inside ${p.partId}`);
      prevEnd = c.bodyEnd;
      check(c);
    }
    if (p.body) {
      assert.equal(p.body.headerStart, p.bodyStart);
      assert.equal(p.body.bodyEnd, p.bodyEnd);
      assert.ok(p.envelope);
      check(p.body);
    }
  };
  check(s.body);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
}

async function parseBothWays(input: Buffer): Promise<MessageStructure> {
  const whole = parseMessageBuffer(input);
  assertWellFormed(whole, input);
  assert.deepEqual(await parseMessage(chunked(input, 7)), whole);
  return whole;
}

test("empty input, a lone line feed, headers without a body, a header that never ends", async () => {
  const empty = await parseBothWays(Buffer.alloc(0));
  assert.deepEqual([empty.body.bodyStart, empty.body.bodyEnd, empty.body.partId], [0, 0, "1"]);
  await parseBothWays(Buffer.from("\n"));
  const noBody = await parseBothWays(Buffer.from("Subject: x\r\n\r\n"));
  assert.deepEqual([noBody.body.bodyStart, noBody.body.size, noBody.body.lines], [14, 0, 0]);
  const unterminated = await parseBothWays(Buffer.from("Subject: x\r\nFrom: a@b"));
  assert.equal(unterminated.body.bodyStart, 21);
  assert.equal(unterminated.envelope.subject, "x");
  assert.equal(unterminated.search.from, "a@b");
});

test("multipart without a boundary parameter, or whose boundary never appears, gets one empty text/plain child", async () => {
  for (const src of [
    "Content-Type: multipart/mixed\r\n\r\n--x\r\nhello\r\n",
    "Content-Type: multipart/mixed; boundary=zzz\r\n\r\n--x\r\nhello\r\n--x--\r\n",
    `Content-Type: multipart/mixed; boundary="${"b".repeat(300)}"\r\n\r\n--${"b".repeat(300)}\r\n\r\nx\r\n`,
  ]) {
    const input = Buffer.from(src);
    const s = await parseBothWays(input);
    assert.equal(s.body.type, "multipart");
    assert.equal(s.body.children!.length, 1);
    const child = s.body.children![0]!;
    assert.deepEqual([child.partId, child.type, child.subtype, child.size, child.bodyStart], ["1", "text", "plain", 0, input.length]);
  }
});

test("a part whose header is cut by the next boundary, and an empty part between two boundaries", async () => {
  const input = Buffer.from("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n--b\r\n--b\r\n\r\nlast\r\n--b--\r\n");
  const s = await parseBothWays(input);
  const [cut, empty, last] = s.body.children!;
  assert.equal(cut!.subtype, "html");
  assert.equal(input.subarray(cut!.headerStart, cut!.bodyStart).toString(), "Content-Type: text/html");
  assert.equal(cut!.size, 0);
  assert.equal(empty!.bodyEnd - empty!.headerStart, 0);
  assert.equal(input.subarray(last!.bodyStart, last!.bodyEnd).toString(), "last");
});

test("base64-encoded message/rfc822 is not parsed as a message; an invalid Content-Type falls back to text/plain", async () => {
  const s = await parseBothWays(
    Buffer.from(
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQp4\r\n--b\r\nContent-Type: garbage; charset=utf-8\r\n\r\nx\r\n--b--\r\n",
    ),
  );
  const [encoded, invalid] = s.body.children!;
  assert.equal(encoded!.type, "message");
  assert.equal(encoded!.envelope, undefined);
  assert.equal(encoded!.body, undefined);
  assert.equal(`${invalid!.type}/${invalid!.subtype}`, "text/plain");
  assert.deepEqual(invalid!.params, { charset: "utf-8" });
});

test("a header block over the limit is truncated for parsing, but offsets stay exact", async () => {
  const big = `X-Big: ${"a".repeat(HEADER_LIMIT)}\r\n`;
  const input = Buffer.from(`Subject: before\r\n${big}Subject: after\r\nX-More: 1\r\n\r\nbody\r\n`);
  const s = await parseBothWays(input);
  assert.equal(s.body.headerTruncated, true);
  assert.equal(s.envelope.subject, "before");
  assert.equal(input.subarray(s.body.bodyStart, s.body.bodyEnd).toString(), "body\r\n");
  // Many short fields past the limit.
  const many = Buffer.from(`${"X-Field: 0123456789012345678901234567890123456789\r\n".repeat(3000)}\r\nbody`);
  const m = await parseBothWays(many);
  assert.equal(m.body.headerTruncated, true);
  assert.equal(many.subarray(m.body.bodyStart).toString(), "body");
});

test("very deep nesting and very many parts stay bounded and well-formed", async () => {
  let deep = "";
  for (let i = 0; i < 200; i++) deep += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
  deep += "\r\nleaf\r\n";
  const d = await parseBothWays(Buffer.from(deep));
  assert.ok(allParts(d).length <= 60);

  let rfc822 = "";
  for (let i = 0; i < 200; i++) rfc822 += `Subject: level ${i}\r\nContent-Type: message/rfc822\r\n\r\n`;
  await parseBothWays(Buffer.from(rfc822 + "\r\nend"));

  const many = Buffer.from(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${"--b\r\n\r\nx\r\n".repeat(12_000)}--b--\r\n`);
  const m = parseMessageBuffer(many);
  assertWellFormed(m, many);
  assert.ok(allParts(m).length <= 10_001);
});

test("random bytes and mutated real messages never throw and always give a well-formed structure", async () => {
  let seed = 42;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const alphabet = Buffer.from("-\r\n\r\n:;=\"\\( )\t\0\xff--b--boundary=Content-Type: multipart/message/rfc822", "latin1");
  for (let i = 0; i < 100; i++) {
    const junk = Buffer.alloc(rand(3000));
    for (let j = 0; j < junk.length; j++) junk[j] = rand(4) === 0 ? rand(256) : alphabet[rand(alphabet.length)]!;
    await parseBothWays(junk);
  }
  const fixtures = [...allFixtures("\r\n"), ...allFixtures("\n")];
  for (let i = 0; i < 400; i++) {
    const base = Buffer.from(fixtures[rand(fixtures.length)]!.message);
    for (let k = rand(8) + 1; k > 0; k--) {
      const at = rand(base.length);
      const op = rand(3);
      if (op === 0) base[at] = alphabet[rand(alphabet.length)]!;
      else if (op === 1) base[at] = 10;
      else base.fill(45, at, Math.min(base.length, at + 2));
    }
    const cut = rand(4) === 0 ? base.subarray(0, rand(base.length)) : base;
    await parseBothWays(cut);
  }
});
