import assert from "node:assert/strict";
import { test } from "node:test";
import type { MailClassified } from "@postline/events";
import { detectLineEnding } from "../src/local/stored-message.ts";
import { deliveryHeader, formatScore, spamHeader } from "../src/index.ts";

const verdict = (symbols: MailClassified["verdict"]["symbols"], extra: Partial<MailClassified["verdict"]> = {}): MailClassified["verdict"] => ({
  action: "junk",
  score: 6.5,
  symbols,
  authResults: "mx.test; spf=pass",
  ...extra,
});

test("scores keep at least one decimal and at most two", () => {
  assert.deepEqual([1, 0, -0.5, 2.25, 1 / 3, 10.004].map(formatScore), ["1.0", "0.0", "-0.5", "2.25", "0.33", "10.0"]);
});

test("the spam header folds between symbols, keeps lines short, and sanitises names", () => {
  const symbols = Array.from({ length: 12 }, (_, i) => ({ name: `RULE_NUMBER_${i}`, score: i / 2 }));
  const header = spamHeader(verdict([...symbols, { name: "BAD\r\nInjected: yes", score: 1 }]), "\r\n");
  const lines = header.split("\r\n");
  assert.ok(lines.length > 1);
  assert.ok(lines[0]!.startsWith("X-Postline-Spam: junk, score=6.5, symbols=RULE_NUMBER_0(0.0),"));
  for (const l of lines) assert.ok(l.length <= 80, l);
  for (const l of lines.slice(1)) assert.ok(l.startsWith("\t"));
  assert.ok(header.endsWith("BAD__Injected__yes(1.0)"));
  assert.equal(header.replace(/\r\n\t/g, ""), `X-Postline-Spam: junk, score=6.5, symbols=${symbols.map((s) => `${s.name}(${formatScore(s.score)})`).join(",")},BAD__Injected__yes(1.0)`);
});

test("the delivery header: Return-Path, spam status, Authentication-Results refolded; the same for every call", () => {
  const event = {
    envelope: { mailFrom: "" },
    verdict: verdict([{ name: "A", score: 1 }], { authResults: "  mx.test;\n spf=pass\nbroken continuation\r\n\r\n" }),
  } as unknown as MailClassified;
  const h = deliveryHeader(event, "\r\n").toString();
  assert.equal(h, "Return-Path: <>\r\nX-Postline-Spam: junk, score=6.5, symbols=A(1.0)\r\nAuthentication-Results: mx.test;\r\n spf=pass\r\n\tbroken continuation\r\n");
  assert.equal(deliveryHeader(event, "\r\n").toString(), h);
  const none = deliveryHeader({ ...event, verdict: { ...event.verdict, authResults: "" } } as MailClassified, "\n").toString();
  assert.equal(none, "Return-Path: <>\nX-Postline-Spam: junk, score=6.5, symbols=A(1.0)\n");
});

test("line ending detection does not depend on chunking", async () => {
  async function detect(chunks: string[]) {
    const it = (async function* () {
      for (const c of chunks) yield Buffer.from(c);
    })();
    const r = await detectLineEnding(it);
    return [r.eol, Buffer.concat(r.head).toString()];
  }
  assert.deepEqual(await detect(["Subject: x\r\n\r\n"]), ["\r\n", "Subject: x\r\n\r\n"]);
  assert.deepEqual(await detect(["Subject: x\r", "\nrest"]), ["\r\n", "Subject: x\r\nrest"]);
  assert.deepEqual(await detect(["Subj", "ect: x", "", "\n"]), ["\n", "Subject: x\n"]);
  assert.deepEqual(await detect(["no line end"]), ["\r\n", "no line end"]);
  assert.deepEqual(await detect([]), ["\r\n", ""]);
});
