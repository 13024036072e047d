import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { findPart, parseMessage, parseMessageBuffer, StructureParser } from "@postline/mime";
import { assertRanges, chunked, labelledParts } from "./fixture-builder.ts";
import { allFixtures, alternativeWithInlineImages, digestAndHeaderless, mixedWithAttachments, nestedForward, singlePart, sloppyBoundaries } from "./fixtures.ts";

for (const eol of ["\r\n", "\n"] as const) {
  const label = eol === "\n" ? "bare LF" : "CRLF";
  for (const f of allFixtures(eol)) {
    test(`${f.name} (${label}): every part's header and body bytes are exactly where they were written`, () => {
      assertRanges(f.message, parseMessageBuffer(f.message), f.builder);
    });
  }
}

test("chunk size never changes the result, including chunks that split CR from LF and boundary lines", async () => {
  for (const eol of ["\r\n", "\n"] as const) {
    for (const f of allFixtures(eol)) {
      const whole = parseMessageBuffer(f.message);
      for (const size of [1, 2, 3, 5, 7, 13, 64, 1000]) {
        assert.deepEqual(await parseMessage(chunked(f.message, size)), whole, `${f.name} in ${size}-byte chunks`);
      }
    }
  }
});

test("a Readable and a Uint8Array (not a Buffer) are accepted", async () => {
  const f = nestedForward();
  const whole = parseMessageBuffer(f.message);
  assert.deepEqual(await parseMessage(Readable.from(chunked(f.message, 100))), whole);
  assert.deepEqual(await parseMessage(new Uint8Array(f.message)), whole);
  const p = new StructureParser();
  p.write(f.message);
  assert.deepEqual(p.end(), whole);
  assert.throws(() => p.write(Buffer.from("x")));
});

test("the structure survives a JSON round trip unchanged (it is stored as jsonb)", () => {
  for (const f of allFixtures()) {
    const s = parseMessageBuffer(f.message);
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  }
});

test("section numbers follow RFC 3501: top multipart is '', message/rfc822 children are numbered inside the part", () => {
  const s = parseMessageBuffer(nestedForward().message);
  const ids = [...labelledParts(s)].map(([label, p]) => `${label}=${p.partId}:${p.type}/${p.subtype}`);
  assert.deepEqual(ids, [
    "root=:multipart/mixed",
    "1=1:text/plain",
    "2=2:message/rfc822",
    "2/message=2:multipart/alternative",
    "2.1=2.1:text/plain",
    "2.2=2.2:text/html",
    "3=3:message/rfc822",
    "3/message=3.1:text/plain",
  ]);
  assert.equal(findPart(s, "2")?.type, "message");
  assert.equal(findPart(s, "2.2")?.subtype, "html");
  assert.equal(findPart(s, "3.1")?.bodyEnd, s.body.children![2]!.bodyEnd);
  assert.equal(findPart(s, "4"), null);
  assert.equal(findPart(s, "")?.subtype, "mixed");

  const single = parseMessageBuffer(singlePart().message);
  assert.equal(single.body.partId, "1");
  assert.deepEqual(single.body.params, { charset: "us-ascii" });
  assert.equal(single.body.lines, 3);
});

test("message/rfc822 parts carry the encapsulated message's envelope and structure", () => {
  const s = parseMessageBuffer(nestedForward().message);
  const fwd = s.body.children![1]!;
  assert.equal(fwd.envelope?.subject, "=?utf-8?Q?Caf=C3=A9?= plans");
  assert.equal(fwd.envelope?.messageId, "<orig@example.com>");
  assert.deepEqual(fwd.envelope?.from, [{ name: "Erin", adl: null, mailbox: "erin", host: "example.org" }]);
  assert.deepEqual(fwd.envelope?.sender, fwd.envelope?.from);
  assert.equal(fwd.body?.subtype, "alternative");
  assert.equal(fwd.lines, 17);
  assert.deepEqual(fwd.disposition, { type: "inline", params: {} });
  const single = s.body.children![2]!;
  assert.equal(single.envelope?.subject, "single");
  assert.equal(single.body?.partId, "3.1");
  assert.equal(single.body?.lines, 2);
  // Search fields are the top-level message's.
  assert.equal(s.search.subject, "Fwd: two messages");
  assert.equal(s.envelope.inReplyTo, "<orig@example.com>");
  assert.equal(s.search.date, "2025-03-05T08:00:00.000Z");
});

test("content headers: type, parameters raw with lower-cased names, encoding, id, description, md5, disposition, language, location", () => {
  const s = parseMessageBuffer(mixedWithAttachments().message);
  const [text, pdf, csv, bin] = s.body.children!;
  assert.deepEqual(s.body.params, { boundary: "outer-boundary" });
  assert.deepEqual(text!.params, { charset: "ISO-8859-1", format: "flowed" });
  assert.equal(text!.encoding, "8BIT");
  assert.equal(pdf!.type + "/" + pdf!.subtype, "application/pdf");
  assert.deepEqual(pdf!.params, { "name*0*": "UTF-8''Quartalsbericht%20%E2%80%93%20", "name*1*": "Q1%202025.pdf" });
  assert.deepEqual(pdf!.disposition, {
    type: "attachment",
    params: { "filename*0*": "UTF-8''Quartalsbericht%20%E2%80%93%20", "filename*1*": "Q1%202025.pdf", size: "1234" },
  });
  assert.equal(pdf!.encoding, "BASE64");
  assert.equal(pdf!.description, "The report");
  assert.equal(pdf!.filename, "Quartalsbericht – Q1 2025.pdf");
  assert.equal(csv!.encoding, "7BIT");
  assert.equal(csv!.params.name, "=?utf-8?Q?Zahlen_=C3=BCbersicht.csv?=");
  assert.equal(csv!.filename, "Zahlen übersicht.csv");
  assert.deepEqual(csv!.language, ["de-DE", "en"]);
  assert.equal(csv!.location, "http://example.de/zahlen.csv");
  assert.equal(csv!.md5, "Q2hlY2sgSW50ZWdyaXR5IQ==");
  assert.equal(csv!.id, null);
  assert.equal(bin!.filename, "ärger.bin");
  assert.deepEqual(bin!.disposition?.params, { "filename*": "iso-8859-1'de'%E4rger.bin" });

  const images = parseMessageBuffer(alternativeWithInlineImages().message);
  assert.deepEqual(images.body.params, { boundary: "----=_Part_rel_01", type: "multipart/alternative" });
  assert.equal(images.body.children![1]!.id, "<img1@example.com>");
  assert.equal(images.body.children![1]!.filename, "beach.png");
  assert.equal(images.body.children![2]!.filename, null);
  assert.equal(images.body.children![0]!.children![0]!.encoding, "QUOTED-PRINTABLE");
});

test("defaults: text/plain; charset=us-ascii, message/rfc822 inside multipart/digest, 7BIT", () => {
  const s = parseMessageBuffer(digestAndHeaderless().message);
  const [bare, digest] = s.body.children!;
  assert.equal(`${bare!.type}/${bare!.subtype}`, "text/plain");
  assert.deepEqual(bare!.params, { charset: "us-ascii" });
  assert.equal(bare!.encoding, "7BIT");
  const [msg, text] = digest!.children!;
  assert.equal(`${msg!.type}/${msg!.subtype}`, "message/rfc822");
  assert.deepEqual(msg!.params, {});
  assert.equal(msg!.envelope?.subject, "first");
  assert.equal(`${text!.type}/${text!.subtype}`, "text/plain");
  // An explicit text/plain without charset gets no invented parameter.
  assert.deepEqual(text!.params, {});
});

test("sloppy boundaries: trailing whitespace accepted, lookalike lines are content, parent boundary closes open children", () => {
  const s = parseMessageBuffer(sloppyBoundaries().message);
  assert.equal(s.body.children!.length, 2);
  assert.equal(s.body.children![0]!.children!.length, 1);
});
