import { test } from "node:test";
import assert from "node:assert/strict";
import { simpleParser } from "mailparser";
import { allParts, parseMessageBuffer, type MimePart } from "@postline/mime";
import { alternativeWithInlineImages, mixedWithAttachments, nestedForward } from "./fixtures.ts";

// mailparser (a different, widely used implementation) must agree on what a user sees: subjects, senders, dates,
// attachment names and types.
for (const make of [alternativeWithInlineImages, mixedWithAttachments, nestedForward]) {
  for (const eol of ["\r\n", "\n"] as const) {
    const f = make(eol);
    test(`${f.name} (${eol === "\n" ? "bare LF" : "CRLF"}) agrees with mailparser`, async () => {
      const ours = parseMessageBuffer(f.message);
      const theirs = await simpleParser(f.message, { skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
      assert.equal(ours.search.subject, theirs.subject ?? null);
      assert.equal(ours.search.messageId, theirs.messageId ?? null);
      assert.equal(ours.search.date, theirs.date?.toISOString() ?? null);
      const theirFrom = theirs.from?.value.map((a) => (a.name ? `${a.name} <${a.address}>` : a.address)).join(", ");
      assert.equal(ours.search.from, theirFrom);

      // Top-level leaves that are not the readable text are mailparser's attachments, in order.
      const leaves = allParts(ours).filter((p) => !p.children && !isInsideMessage(ours.body, p));
      // mailparser shows text bodies and inline forwarded messages as the message text, not as attachments.
      const attachments = leaves.filter(
        (p) =>
          !(p.type === "text" && (p.subtype === "plain" || p.subtype === "html") && p.disposition?.type !== "attachment") &&
          !(p.type === "message" && p.disposition?.type === "inline"),
      );
      assert.deepEqual(
        attachments.map((p) => [`${p.type}/${p.subtype}`, p.filename ?? undefined, p.id ?? undefined]),
        theirs.attachments.map((a) => [a.contentType, a.filename, a.contentId]),
      );
      for (const [i, a] of theirs.attachments.entries()) {
        const p = attachments[i]!;
        assert.equal(decodedSize(f.message.subarray(p.bodyStart, p.bodyEnd), p.encoding), a.size, `decoded size of ${p.partId}`);
      }
    });
  }
}

/** Parts inside a message/rfc822 are not attachments of their own to mailparser (the message/rfc822 part is). */
function isInsideMessage(root: MimePart, target: MimePart): boolean {
  const walk = (p: MimePart, inside: boolean): boolean | null => {
    if (p === target) return inside;
    if (p.body) {
      const r = walk(p.body, true);
      if (r !== null) return r;
    }
    for (const c of p.children ?? []) {
      const r = walk(c, inside);
      if (r !== null) return r;
    }
    return null;
  };
  return walk(root, false) ?? false;
}

function decodedSize(body: Buffer, encoding: string): number {
  if (encoding === "BASE64") {
    // Line by line: a line may end in padding (each line of the fixture is a complete base64 unit).
    return body
      .toString("latin1")
      .split(/\r?\n/)
      .reduce((n, line) => n + Buffer.from(line, "base64").length, 0);
  }
  return body.length;
}
