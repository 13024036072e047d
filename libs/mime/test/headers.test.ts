import { test } from "node:test";
import assert from "node:assert/strict";
import { headerFieldsOf, imapAddresses, parseMailDate, parseMessageBuffer, selectHeaderFields, parseStructuredValue, decodedParam } from "@postline/mime";

const crlf = (s: string): Buffer => Buffer.from(s.replace(/\n/g, "\r\n"), "utf8");

test("encoded-word subjects decode for search (UTF-8 B, ISO-8859-1 Q, adjacent words) and stay raw in the envelope", () => {
  const cases: [string, string][] = [
    ["=?UTF-8?B?w4RwZmVsIHVuZCBCaXJuZW4g8J+Njg==?=", "Äpfel und Birnen 🍎"],
    ["=?ISO-8859-1?Q?Gr=FC=DFe_aus_K=F6ln?=", "Grüße aus Köln"],
    ["=?utf-8?Q?Caf=C3=A9?= =?utf-8?Q?_cr=C3=A8me?=", "Café crème"],
    ["Re: =?iso-8859-1?q?Pr=FCfung?= heute", "Re: Prüfung heute"],
    ["=?windows-1252?Q?=93quoted=94?=", "\u201cquoted\u201d"],
    ["=?x-unknown?Q?abc?= plain", "abc plain"],
    ["not =?encoded", "not =?encoded"],
  ];
  for (const [raw, decoded] of cases) {
    const s = parseMessageBuffer(crlf(`Subject: ${raw}\n\nbody`));
    assert.equal(s.search.subject, decoded, raw);
    assert.equal(s.envelope.subject, raw);
  }
});

test("folded headers are unfolded; 8-bit UTF-8 headers (RFC 6532) are read as UTF-8, invalid UTF-8 as Latin-1", () => {
  const s = parseMessageBuffer(crlf(`Subject: a long\n  folded\tsubject\nFrom: Jörg <jörg@bücher.example>\n\nx`));
  assert.equal(s.envelope.subject, "a long  folded\tsubject");
  assert.deepEqual(s.envelope.from, [{ name: "Jörg", adl: null, mailbox: "jörg", host: "bücher.example" }]);
  assert.equal(s.search.from, "Jörg <jörg@bücher.example>");
  const latin1 = Buffer.concat([Buffer.from("Subject: Gr"), Buffer.from([0xfc, 0xdf]), Buffer.from("e\r\n\r\nx")]);
  assert.equal(parseMessageBuffer(latin1).search.subject, "Grüße");
});

test("envelope: group syntax gives IMAP group markers; sender and reply-to default to from; absent fields are null", () => {
  const s = parseMessageBuffer(
    crlf(`From: "Doe, Jane" <jane@example.com>
To: undisclosed-recipients:;
Cc: Team: ann@example.com, "Bo B." <bo@example.com>;, carl@example.com
Reply-To:
Date: Wed, 05 Mar 2025 10:00:00 +0100

body`),
  );
  const jane = { name: "Doe, Jane", adl: null, mailbox: "jane", host: "example.com" };
  assert.deepEqual(s.envelope.from, [jane]);
  assert.deepEqual(s.envelope.sender, [jane]);
  assert.deepEqual(s.envelope.replyTo, [jane]);
  assert.deepEqual(s.envelope.to, [
    { name: null, adl: null, mailbox: "undisclosed-recipients", host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  assert.deepEqual(s.envelope.cc, [
    { name: null, adl: null, mailbox: "Team", host: null },
    { name: null, adl: null, mailbox: "ann", host: "example.com" },
    { name: "Bo B.", adl: null, mailbox: "bo", host: "example.com" },
    { name: null, adl: null, mailbox: null, host: null },
    { name: null, adl: null, mailbox: "carl", host: "example.com" },
  ]);
  assert.equal(s.envelope.bcc, null);
  assert.equal(s.envelope.subject, null);
  assert.equal(s.envelope.messageId, null);
  assert.equal(s.envelope.inReplyTo, null);
  assert.equal(s.search.from, "Doe, Jane <jane@example.com>");
  assert.equal(s.search.to, "undisclosed-recipients: ;");
  assert.equal(s.search.cc, "Team: ann@example.com, Bo B. <bo@example.com>;, carl@example.com");
  assert.equal(s.search.date, "2025-03-05T09:00:00.000Z");
  assert.equal(s.search.subject, null);
});

test("a message with no header at all", () => {
  const s = parseMessageBuffer(Buffer.from("\r\njust a body\r\n"));
  assert.deepEqual(s.envelope, { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null });
  assert.deepEqual([s.body.headerStart, s.body.bodyStart, s.body.bodyEnd, s.body.lines], [0, 2, 15, 1]);
  assert.deepEqual(s.search, { subject: null, from: null, to: null, cc: null, bcc: null, date: null, messageId: null });
});

test("addresses without a domain or local part use Dovecot's placeholders (host NIL is only for groups)", () => {
  assert.deepEqual(imapAddresses("root"), [{ name: null, adl: null, mailbox: "root", host: "MISSING_DOMAIN" }]);
  assert.deepEqual(imapAddresses("Some Name"), [{ name: "Some Name", adl: null, mailbox: "MISSING_MAILBOX", host: "MISSING_DOMAIN" }]);
  assert.deepEqual(imapAddresses("john@x.example (John Doe)"), [{ name: "John Doe", adl: null, mailbox: "john", host: "x.example" }]);
  assert.equal(imapAddresses(""), null);
  assert.equal(imapAddresses(undefined), null);
});

test("dates: RFC 5322, obsolete zones, two-digit years, comments; unparseable gives null", () => {
  const iso = (s: string): string | null => parseMailDate(s)?.toISOString() ?? null;
  assert.equal(iso("Tue, 1 Jul 2003 10:52:37 +0200"), "2003-07-01T08:52:37.000Z");
  assert.equal(iso("Mon, 3 Feb 2025 17:01:22 -0500 (EST)"), "2025-02-03T22:01:22.000Z");
  assert.equal(iso("3 Feb 99 17:01 EST"), "1999-02-03T22:01:00.000Z");
  assert.equal(iso("Fri, 21 Nov 1997 09:55:06 -0600"), "1997-11-21T15:55:06.000Z");
  assert.equal(iso("Thu,  6 Mar 2025 01:02:03 GMT"), "2025-03-06T01:02:03.000Z");
  assert.equal(iso("6 Mar 2025 01:02:03 +01:30"), "2025-03-05T23:32:03.000Z");
  assert.equal(iso("2025-03-06T01:02:03Z"), "2025-03-06T01:02:03.000Z");
  assert.equal(iso("yesterday"), null);
  assert.equal(iso(""), null);
  assert.equal(iso("99 Foo 2025 10:00"), null);
});

test("headerFieldsOf and selectHeaderFields give the raw bytes IMAP serves for HEADER.FIELDS (.NOT)", () => {
  const block = crlf(`Received: from a\n\tby b\nSubject: hi\nX-Junk\nFrom : a@b\nsubject: second\n\n`);
  const fields = headerFieldsOf(block);
  assert.deepEqual(fields.map((f) => f.key), ["received", "subject", "from", "subject"]);
  assert.equal(block.subarray(fields[0]!.start, fields[0]!.end).toString(), "Received: from a\r\n\tby b\r\n");
  assert.equal(selectHeaderFields(block, ["SUBJECT"]).toString(), "Subject: hi\r\nsubject: second\r\n\r\n");
  assert.equal(selectHeaderFields(block, ["subject", "received"], true).toString(), "From : a@b\r\n\r\n");
  assert.equal(selectHeaderFields(block, ["x-none"]).toString(), "\r\n");
  assert.equal(selectHeaderFields(Buffer.from("Subject: cut"), ["subject"]).toString(), "Subject: cut\r\n\r\n");
});

test("structured values: comments, quoted strings with escapes and semicolons, odd spacing", () => {
  assert.deepEqual(parseStructuredValue(`Text/HTML (comment; here) ; Charset = "utf-8" ; name="a \\"b\\"; c.txt";bad; =x`), {
    value: "text/html",
    params: { charset: "utf-8", name: 'a "b"; c.txt' },
  });
  assert.deepEqual(parseStructuredValue(`attachment`), { value: "attachment", params: {} });
  assert.equal(decodedParam({ "title*0": "plain ", "title*1*": "%E2%82%AC" }, "title"), "plain €");
  assert.equal(decodedParam({}, "name"), null);
});
