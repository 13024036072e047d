import { test } from "node:test";
import assert from "node:assert/strict";
import { simpleParser } from "mailparser";
import { buildDsn, isAutomatedMessage, type DsnInput, type DsnRecipient } from "@postline/dsn";

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, "\r\n"), "utf8");

const ORIGINAL = crlf(
  "From: Alice <alice@example.test>\nTo: bob@remote.test\nSubject: Quarterly numbers\n" +
    "Message-ID: <orig-1@example.test>\nX-Long: first line\n  continued line\n\nHello Bob,\nhere they are.\n",
);

const T0 = new Date("2026-11-28T10:00:00Z");
const T1 = new Date("2026-11-28T10:05:07Z");
const T2 = new Date("2026-12-03T10:00:00Z");

function input(overrides: Partial<DsnInput> = {}, recipients?: DsnRecipient[]): DsnInput {
  return {
    reportingMta: "mail.example.test",
    from: "MAILER-DAEMON@mail.example.test",
    to: "alice@example.test",
    messageId: "dsn-1@mail.example.test",
    date: T1,
    originalMailId: "Q123ABC",
    arrivalDate: T0,
    ret: "FULL",
    original: ORIGINAL,
    recipients: recipients ?? [
      {
        finalRecipient: "bob@remote.test",
        action: "failed",
        status: "5.1.1",
        remoteMta: "mx.remote.test",
        diagnosticCode: "550 5.1.1 <bob@remote.test>: Recipient address rejected: User unknown",
        lastAttemptDate: T1,
      },
    ],
    ...overrides,
  };
}

interface RawPart {
  headers: string;
  body: Buffer;
}

/** Splits the top-level multipart body by the boundary from the Content-Type header (independent of mailparser). */
function rawParts(dsn: Buffer): { boundary: string; head: string; parts: RawPart[] } {
  const headEnd = dsn.indexOf("\r\n\r\n");
  const head = dsn.subarray(0, headEnd + 2).toString("utf8");
  const boundary = /boundary="([^"]+)"/.exec(head)?.[1];
  assert.ok(boundary, "boundary parameter present");
  const delimiter = `\r\n--${boundary}`;
  const pieces: Buffer[] = [];
  let pos = dsn.indexOf(`--${boundary}\r\n`, headEnd);
  assert.ok(pos !== -1);
  pos += boundary.length + 4;
  for (;;) {
    const next = dsn.indexOf(delimiter, pos);
    assert.ok(next !== -1, "closing delimiter present");
    pieces.push(dsn.subarray(pos, next));
    const after = dsn.subarray(next + delimiter.length, next + delimiter.length + 4).toString("latin1");
    if (after === "--\r\n") {
      assert.equal(next + delimiter.length + 4, dsn.length, "nothing after the closing delimiter");
      break;
    }
    assert.equal(after.slice(0, 2), "\r\n");
    pos = next + delimiter.length + 2;
  }
  const parts = pieces.map((p) => {
    const end = p.indexOf("\r\n\r\n");
    return { headers: p.subarray(0, end + 2).toString("utf8"), body: p.subarray(end + 4) };
  });
  return { boundary, head, parts };
}

/** Fields of the message/delivery-status body: [per-message, ...per-recipient], each as name → unfolded value. */
function statusGroups(body: Buffer): Map<string, string>[] {
  return body
    .toString("utf8")
    .replace(/\r\n$/, "")
    .split("\r\n\r\n")
    .map((group) => {
      const m = new Map<string, string>();
      for (const line of group.replace(/\r\n[ \t]/g, " ").split("\r\n")) {
        const i = line.indexOf(":");
        m.set(line.slice(0, i), line.slice(i + 1).trim());
      }
      return m;
    });
}

const contentTypeOf = (p: RawPart) => /^Content-Type: ([^;\r\n]+)/im.exec(p.headers)?.[1];

test("a bounce is a multipart/report with the required headers and three parts in order", async () => {
  const dsn = buildDsn(input());
  assert.ok(!/[^\r]\n/.test(dsn.toString("latin1")), "CRLF line ends only");
  const m = await simpleParser(dsn);
  assert.equal(m.from?.value[0]?.name, "Mail Delivery System");
  assert.equal(m.from?.value[0]?.address, "MAILER-DAEMON@mail.example.test");
  assert.equal(m.to && !Array.isArray(m.to) ? m.to.value[0]?.address : undefined, "alice@example.test");
  assert.equal(m.subject, "Undelivered Mail Returned to Sender");
  assert.equal(m.date?.toISOString(), T1.toISOString());
  assert.equal(m.messageId, "<dsn-1@mail.example.test>");
  assert.equal(m.headers.get("mime-version"), "1.0");
  assert.equal(m.headers.get("auto-submitted"), "auto-replied");
  assert.equal(m.headers.get("x-postline-queue-id"), "Q123ABC");
  const ct = m.headers.get("content-type") as { value: string; params: Record<string, string> };
  assert.equal(ct.value, "multipart/report");
  assert.equal(ct.params["report-type"], "delivery-status");

  const { parts } = rawParts(dsn);
  assert.deepEqual(parts.map(contentTypeOf), ["text/plain", "message/delivery-status", "message/rfc822"]);
  assert.match(parts[0]!.headers, /charset=utf-8/);
  assert.deepEqual(parts[2]!.body, ORIGINAL, "the original comes back byte for byte");
  assert.ok(!/Content-Transfer-Encoding/i.test(parts[2]!.headers), "7-bit original: no 8bit marker");
  // mailparser agrees: the original is the one attachment, the human-readable text names recipient and reply.
  assert.deepEqual(
    m.attachments.map((a) => a.contentType),
    ["message/rfc822"],
  );
  assert.match(m.text ?? "", /<bob@remote\.test>: delivery failed permanently \(status 5\.1\.1\)/);
  assert.match(m.text ?? "", /Remote server: mx\.remote\.test/);
  assert.match(m.text ?? "", /The server said: 550 5\.1\.1 <bob@remote\.test>: Recipient address\s+rejected: User unknown/);
  assert.match(m.text ?? "", /Queue ID: Q123ABC/);
  assert.match(m.text ?? "", /The original message is attached\./);
});

test("delivery-status fields: per-message and per-recipient, ORCPT and ENVID decoded from xtext", () => {
  const dsn = buildDsn(
    input({ envid: "ENV+2B42" }, [
      {
        finalRecipient: "bob@remote.test",
        originalRecipient: "rfc822;bob+2Btag@remote.test",
        action: "failed",
        status: "5.1.1",
        remoteMta: "mx.remote.test",
        diagnosticCode: "550 5.1.1 User unknown",
        lastAttemptDate: T1,
        willRetryUntil: T2,
      },
    ]),
  );
  const [perMessage, rcpt, ...rest] = statusGroups(rawParts(dsn).parts[1]!.body);
  assert.equal(rest.length, 0);
  assert.deepEqual(Object.fromEntries(perMessage!), {
    "Reporting-MTA": "dns; mail.example.test",
    "X-Postline-Queue-Id": "Q123ABC",
    "Original-Envelope-Id": "ENV+42",
    "Arrival-Date": "Sat, 28 Nov 2026 10:00:00 +0000",
  });
  // Will-Retry-Until is only for "delayed".
  assert.deepEqual(Object.fromEntries(rcpt!), {
    "Original-Recipient": "rfc822;bob+tag@remote.test",
    "Final-Recipient": "rfc822; bob@remote.test",
    Action: "failed",
    Status: "5.1.1",
    "Remote-MTA": "dns; mx.remote.test",
    "Diagnostic-Code": "smtp; 550 5.1.1 User unknown",
    "Last-Attempt-Date": "Sat, 28 Nov 2026 10:05:07 +0000",
  });
});

test("one report for several recipients; subject follows the most serious action", async () => {
  const failed: DsnRecipient = { finalRecipient: "a@remote.test", action: "failed", status: "5.2.2", diagnosticCode: "552 5.2.2 Mailbox full" };
  const delayed: DsnRecipient = {
    finalRecipient: "b@slow.test",
    action: "delayed",
    status: "4.4.1",
    diagnosticCode: "connect to mx.slow.test: Connection refused",
    willRetryUntil: T2,
  };
  const delivered: DsnRecipient = { finalRecipient: "c@remote.test", action: "delivered", status: "2.0.0", remoteMta: "mx.remote.test" };
  const relayed: DsnRecipient = { finalRecipient: "d@old.test", action: "relayed", status: "2.0.0" };

  const mixed = buildDsn(input({}, [failed, delayed, delivered]));
  const groups = statusGroups(rawParts(mixed).parts[1]!.body);
  assert.deepEqual(
    groups.slice(1).map((g) => [g.get("Final-Recipient"), g.get("Action"), g.get("Status")]),
    [
      ["rfc822; a@remote.test", "failed", "5.2.2"],
      ["rfc822; b@slow.test", "delayed", "4.4.1"],
      ["rfc822; c@remote.test", "delivered", "2.0.0"],
    ],
  );
  assert.equal(groups[2]!.get("Will-Retry-Until"), "Thu, 3 Dec 2026 10:00:00 +0000");
  assert.equal(groups[2]!.get("Diagnostic-Code"), "X-Postline; connect to mx.slow.test: Connection refused");
  const m = await simpleParser(mixed);
  assert.equal(m.subject, "Undelivered Mail Returned to Sender");
  for (const a of ["a@remote.test", "b@slow.test", "c@remote.test"]) assert.ok(m.text?.includes(`<${a}>`), a);

  const delay = await simpleParser(buildDsn(input({}, [delayed, delivered])));
  assert.equal(delay.subject, "Delayed Mail (still being retried)");
  assert.match(delay.text ?? "", /Will retry until: Thu, 3 Dec 2026 10:00:00 \+0000/);
  const success = await simpleParser(buildDsn(input({}, [delivered, relayed])));
  assert.equal(success.subject, "Successful Mail Delivery Report");
  assert.match(success.text ?? "", /relayed to a system that does not send further delivery notifications/);
});

test("RET=HDRS returns only the header section as text/rfc822-headers", async () => {
  const dsn = buildDsn(input({ ret: "HDRS" }));
  const { parts } = rawParts(dsn);
  assert.equal(contentTypeOf(parts[2]!), "text/rfc822-headers");
  const headerEnd = ORIGINAL.indexOf("\r\n\r\n") + 2;
  assert.deepEqual(parts[2]!.body, ORIGINAL.subarray(0, headerEnd), "headers incl. the folded one, no body");
  assert.ok(!dsn.includes("Hello Bob"));
  const m = await simpleParser(dsn);
  assert.match(m.text ?? "", /RET=HDRS/);
});

test("an original larger than maxReturnedBytes comes back as headers only, and the text says so", async () => {
  const big = Buffer.concat([crlf("From: a@example.test\nSubject: big\n\n"), Buffer.alloc(5000, "x"), crlf("\n")]);
  const cut = buildDsn(input({ original: big, maxReturnedBytes: big.length - 1 }));
  const { parts } = rawParts(cut);
  assert.equal(contentTypeOf(parts[2]!), "text/rfc822-headers");
  assert.equal(parts[2]!.body.toString(), "From: a@example.test\r\nSubject: big\r\n");
  assert.match((await simpleParser(cut)).text ?? "", new RegExp(`\\(${big.length} bytes\\) is larger than ${big.length - 1} bytes; only its headers`));

  const atLimit = rawParts(buildDsn(input({ original: big, maxReturnedBytes: big.length }))).parts[2]!;
  assert.equal(contentTypeOf(atLimit), "message/rfc822");
  assert.deepEqual(atLimit.body, big);

  // The 1 MiB default.
  const huge = Buffer.concat([crlf("Subject: huge\n\n"), Buffer.alloc(1024 * 1024, "y")]);
  assert.equal(contentTypeOf(rawParts(buildDsn(input({ original: huge }))).parts[2]!), "text/rfc822-headers");
});

test("an 8-bit original is returned unchanged and marked Content-Transfer-Encoding: 8bit", async () => {
  const original = crlf("From: José <jose@example.test>\nSubject: Grüße\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nDéjà vu\n");
  const dsn = buildDsn(input({ original }));
  const part = rawParts(dsn).parts[2]!;
  assert.match(part.headers, /^Content-Transfer-Encoding: 8bit\r$/m);
  assert.deepEqual(part.body, original);
  const hdrs = rawParts(buildDsn(input({ original, ret: "HDRS" }))).parts[2]!;
  assert.match(hdrs.headers, /^Content-Transfer-Encoding: 8bit\r$/m, "8-bit headers too");
  const m = await simpleParser(dsn);
  assert.equal(m.attachments.length, 1);
  assert.deepEqual(m.attachments[0]!.content, original);
});

test("bare-LF originals and originals without a body are normalised to CRLF", () => {
  const lf = Buffer.from("Subject: lf\nX-A: 1\n\nbody line\n");
  assert.equal(rawParts(buildDsn(input({ original: lf }))).parts[2]!.body.toString(), "Subject: lf\r\nX-A: 1\r\n\r\nbody line\r\n");
  assert.equal(rawParts(buildDsn(input({ original: lf, ret: "HDRS" }))).parts[2]!.body.toString(), "Subject: lf\r\nX-A: 1\r\n");
  const noBody = Buffer.from("Subject: only headers");
  assert.equal(rawParts(buildDsn(input({ original: noBody, ret: "HDRS" }))).parts[2]!.body.toString(), "Subject: only headers\r\n");
});

test("a UTF-8 recipient is written utf-8; addr in a message/global-delivery-status part (RFC 6533)", async () => {
  const dsn = buildDsn(
    input({}, [{ finalRecipient: "jürgen@bücher.test", originalRecipient: "utf-8;jürgen@bücher.test", action: "failed", status: "5.1.1", diagnosticCode: "550 5.1.1 Empfänger unbekannt" }]),
  );
  const { parts } = rawParts(dsn);
  assert.equal(contentTypeOf(parts[1]!), "message/global-delivery-status");
  const rcpt = statusGroups(parts[1]!.body)[1]!;
  assert.equal(rcpt.get("Final-Recipient"), "utf-8; jürgen@bücher.test");
  assert.equal(rcpt.get("Original-Recipient"), "utf-8;jürgen@bücher.test");
  assert.equal(rcpt.get("Diagnostic-Code"), "smtp; 550 5.1.1 Empfänger unbekannt");
  // The non-ASCII text part is base64 and decodes back to UTF-8.
  assert.match(parts[0]!.headers, /Content-Transfer-Encoding: base64/);
  const m = await simpleParser(dsn);
  assert.match(m.text ?? "", /<jürgen@bücher\.test>: delivery failed permanently/);
  assert.match(m.text ?? "", /Empfänger unbekannt/);

  // ASCII recipients keep message/delivery-status strictly 7-bit, even with a non-ASCII reply.
  const ascii = rawParts(buildDsn(input({}, [{ finalRecipient: "b@remote.test", action: "failed", status: "5.0.0", diagnosticCode: "550 Empfänger" }])));
  assert.equal(contentTypeOf(ascii.parts[1]!), "message/delivery-status");
  assert.ok(!ascii.parts[1]!.body.some((b) => b > 0x7f));
  assert.equal(statusGroups(ascii.parts[1]!.body)[1]!.get("Diagnostic-Code"), "smtp; 550 Empf?nger");
});

test("CR/LF in the remote reply and in header values cannot inject fields or parts", async () => {
  const evil = "550 5.7.1 rejected\r\nBcc: victim@evil.test\r\n\r\nInjected-Field: yes\n--fake\rX-Evil: 1";
  const dsn = buildDsn(
    input(
      {
        from: "MAILER-DAEMON@mail.example.test\r\nBcc: a@evil.test",
        to: "alice@example.test\r\nSubject: spoofed",
        messageId: "id@x\r\nX-Evil: 2",
        originalMailId: "Q1\r\nX-Evil: 3",
        envid: "E1\r\nX-Evil: 4",
      },
      [{ finalRecipient: "bob@remote.test\r\nAction: delivered", action: "failed", status: "5.7.1\r\nX-Evil: 5", remoteMta: "mx\r\nX-Evil: 6", diagnosticCode: evil }],
    ),
  );
  const text = dsn.toString("utf8");
  for (const name of ["Bcc", "Injected-Field", "X-Evil", "Action: delivered"]) {
    assert.ok(!new RegExp(`^${name}`, "m").test(text), `no line starts with ${name}`);
  }
  assert.ok(!/^--fake/m.test(text));
  assert.ok(!/[^\r]\n|\r[^\n]/.test(text), "no bare CR or LF");
  const { parts } = rawParts(dsn);
  assert.equal(parts.length, 3);
  const groups = statusGroups(parts[1]!.body);
  assert.equal(groups.length, 2);
  assert.equal(groups[1]!.get("Action"), "failed");
  assert.equal(
    groups[1]!.get("Diagnostic-Code"),
    "smtp; 550 5.7.1 rejected Bcc: victim@evil.test Injected-Field: yes --fake X-Evil: 1",
  );
  const m = await simpleParser(dsn);
  assert.equal(m.subject, "Undelivered Mail Returned to Sender");
  assert.equal(m.bcc, undefined);
});

test("multi-line replies are joined and long Diagnostic-Code lines are folded", () => {
  const reply =
    "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n" +
    "550-5.1.1 double-checking the recipient's email address for typos or\r\n" +
    "550 5.1.1 unnecessary spaces. https://support.example.test/mail/?p=NoSuchUser x1si123";
  const body = rawParts(buildDsn(input({}, [{ finalRecipient: "b@remote.test", action: "failed", status: "5.1.1", diagnosticCode: reply }]))).parts[1]!.body;
  const raw = body.toString();
  for (const line of raw.split("\r\n")) assert.ok(line.length <= 78, `line too long: ${line}`);
  assert.equal(
    statusGroups(body)[1]!.get("Diagnostic-Code"),
    "smtp; 550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking " +
      "the recipient's email address for typos or unnecessary spaces. https://support.example.test/mail/?p=NoSuchUser x1si123",
  );
});

test("the boundary never occurs in the original: a DSN returning a DSN still parses", async () => {
  const inner = buildDsn(input());
  const innerBoundary = rawParts(inner).boundary;
  const outer = buildDsn(input({ original: inner, messageId: "dsn-2@mail.example.test" }));
  const { boundary, parts } = rawParts(outer);
  assert.notEqual(boundary, innerBoundary);
  assert.ok(!inner.includes(boundary));
  assert.equal(parts.length, 3);
  assert.deepEqual(parts[2]!.body, inner);
  const m = await simpleParser(outer);
  assert.equal(m.attachments.length, 1);
  assert.deepEqual(m.attachments[0]!.content, inner);
});

test("nothing to report, or no one to report to, is refused", () => {
  assert.throws(() => buildDsn(input({}, [])), /no recipients/);
  assert.throws(() => buildDsn(input({ to: "" })), /null sender/);
  assert.throws(() => buildDsn(input({ to: " <> " })), /null sender/);
});

test("isAutomatedMessage: Auto-Submitted other than no, or multipart/report", () => {
  const cases: [string, boolean][] = [
    ["From: a@b\r\nSubject: hi\r\n", false],
    ["Auto-Submitted: no\r\nSubject: hi\r\n", false],
    ["Auto-Submitted: No (a person wrote this)\r\n", false],
    ["Auto-Submitted: auto-replied\r\n", true],
    ["auto-submitted:   Auto-Generated\r\n", true],
    ["Auto-Submitted:\r\n auto-notified; owner-email=\"x@y\"\r\n", true],
    ["Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"b\"\r\n", true],
    ["Content-Type: Multipart/Report; report-type=disposition-notification\n", true],
    ["Content-Type: multipart/mixed; boundary=\"b\"\r\n", false],
    ["Subject: about Auto-Submitted: auto-replied\r\n", false],
    ["Subject: x\r\n\r\nAuto-Submitted: auto-replied\r\n", false],
  ];
  for (const [headers, expected] of cases) assert.equal(isAutomatedMessage(headers), expected, headers);
  const section = buildDsn(input()).toString("utf8").split("\r\n\r\n")[0]!;
  assert.equal(isAutomatedMessage(section), true, "our own DSNs are automated");
});
