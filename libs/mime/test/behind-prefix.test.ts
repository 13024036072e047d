import assert from "node:assert/strict";
import { test } from "node:test";
import { HEADER_LIMIT, PrefixableParser, behindPrefix, parseMessageBuffer } from "@postline/mime";
import { allFixtures, typicalMessage } from "./fixtures.ts";

const prefixFor = (eol: string) =>
  Buffer.from([`Return-Path: <a@example.org>`, `X-Postline-Spam: deliver, score=0.5, symbols=`, `\tMISSING_DATE(0.5)`, `Authentication-Results: mx.example.org;`, `\tspf=pass`].map((l) => l + eol).join(""));

/** Parsed in pieces of `size` octets. */
function prefixable(message: Buffer, size = 7) {
  const p = new PrefixableParser();
  for (let at = 0; at < message.length; at += size) p.write(message.subarray(at, at + size));
  return p.end();
}

const messages = [
  ...(["\r\n", "\n"] as const).flatMap((eol) => allFixtures(eol).map((f) => ({ name: `${f.name} (${eol === "\n" ? "LF" : "CRLF"})`, message: f.message }))),
  { name: "typical message", message: typicalMessage() },
  { name: "no header at all", message: Buffer.from("\r\nonly a body\r\n") },
  { name: "no line break", message: Buffer.from("Subject: x") },
];

for (const { name, message } of messages) {
  test(`${name}: the shifted structure is the structure of prefix + message`, () => {
    const parsed = prefixable(message)!;
    const prefix = prefixFor(parsed.eol);
    assert.deepEqual(behindPrefix(parsed, prefix.length), parseMessageBuffer(Buffer.concat([prefix, message])));
    assert.deepEqual(parsed.structure, parseMessageBuffer(message));
  });
}

test("the line ending is the first line's, whatever the chunking", () => {
  assert.equal(prefixable(Buffer.from("Subject: a\r\n\r\nb\n"), 1)!.eol, "\r\n");
  assert.equal(prefixable(Buffer.from("Subject: a\n\r\nb\r\n"), 11)!.eol, "\n");
  // The CR ends one chunk, the LF starts the next.
  const p = new PrefixableParser();
  p.write(Buffer.from("Subject: a\r"));
  p.write(Buffer.from("\n\r\nb"));
  assert.equal(p.end()!.eol, "\r\n");
  assert.equal(prefixable(Buffer.from("Subject: a"))!.eol, "\r\n", "no line break: CRLF");
});

test("none when the prefix would change how the message reads: a folded first line, a header at the parser's limit", () => {
  assert.equal(prefixable(Buffer.from(" continued\r\nSubject: a\r\n\r\nb\r\n")), null);
  assert.equal(prefixable(Buffer.from("\tcontinued\r\n\r\nb\r\n")), null);
  const long = Buffer.from(`Subject: a\r\nX-Long: ${"x".repeat(HEADER_LIMIT - 200)}\r\n\r\nbody\r\n`);
  const parsed = prefixable(long)!;
  assert.ok(parsed, "the message alone is within the limit");
  assert.equal(behindPrefix(parsed, 300), null);
  assert.ok(behindPrefix(parsed, 100));
});
