import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseMessageBuffer } from "@postline/mime";
import { bodyStructureText } from "../src/imap/protocol/bodystructure.ts";
import { astring, compactSet, flagList, internalDate, literalPrefix, nstring, quoted } from "../src/imap/protocol/encode.ts";
import { envelopeText } from "../src/imap/protocol/envelope.ts";
import { decodeMailboxName, encodeMailboxName } from "../src/imap/protocol/mailbox-name.ts";

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join("\r\n"), "utf8");

describe("string encoders", () => {
  it("quoted escapes quotes and backslashes and never lets a line end through", () => {
    assert.equal(quoted('a "b" \\c'), '"a \\"b\\" \\\\c"');
    assert.equal(quoted("x\r\ny"), '"x  y"');
    assert.equal(quoted(""), '""');
  });

  it("astring picks an atom, a quoted string or a literal", () => {
    assert.equal(astring("INBOX"), "INBOX");
    assert.equal(astring("foo]bar"), "foo]bar");
    assert.equal(astring("Sent Items"), '"Sent Items"');
    assert.equal(astring(""), '""');
    assert.equal(astring("NIL"), '"NIL"');
    assert.equal(astring("a*b"), '"a*b"');
    assert.equal(astring("a(b"), '"a(b"');
    assert.equal(astring('say "hi"'), '"say \\"hi\\""');
    assert.equal(astring("line\r\nbreak"), "{11}\r\nline\r\nbreak");
    assert.equal(astring("Entwürfe"), "{9}\r\nEntwürfe");
    assert.equal(astring("x".repeat(2000)), `{2000}\r\n${"x".repeat(2000)}`);
  });

  it("nstring, literalPrefix, flagList", () => {
    assert.equal(nstring(null), "NIL");
    assert.equal(nstring("NIL"), '"NIL"');
    assert.equal(nstring("a\nb"), "{3}\r\na\nb");
    assert.equal(literalPrefix(0), "{0}\r\n");
    assert.equal(literalPrefix(12345), "{12345}\r\n");
    assert.equal(flagList(["\\Seen", "$Junk"]), "(\\Seen $Junk)");
    assert.equal(flagList([]), "()");
  });

  it("internalDate is RFC 9051 date-time in UTC with the quotes", () => {
    assert.equal(internalDate(new Date("2026-11-28T11:23:17Z")), '"28-Nov-2026 11:23:17 +0000"');
    assert.equal(internalDate(new Date("1994-07-05T09:37:05.900Z")), '"05-Jul-1994 09:37:05 +0000"');
  });

  it("compactSet folds runs into ranges", () => {
    assert.equal(compactSet([1, 2, 3, 5, 9, 10]), "1:3,5,9:10");
    assert.equal(compactSet([7]), "7");
    assert.equal(compactSet([]), "");
    assert.equal(compactSet([1, 3, 4, 4294967295]), "1,3:4,4294967295");
  });
});

describe("mailbox names", () => {
  it("decodes and encodes modified UTF-7 (RFC 3501 5.1.3 example)", () => {
    assert.equal(decodeMailboxName("~peter/mail/&U,BTFw-/&ZeVnLIqe-", false), "~peter/mail/台北/日本語");
    assert.equal(encodeMailboxName("~peter/mail/台北/日本語", false), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    assert.equal(decodeMailboxName("Tom &- Jerry", false), "Tom & Jerry");
    assert.equal(encodeMailboxName("Tom & Jerry", false), "Tom &- Jerry");
    assert.equal(encodeMailboxName("Entwürfe", false), "Entw&APw-rfe");
    assert.equal(decodeMailboxName("Entw&APw-rfe", false), "Entwürfe");
    assert.equal(encodeMailboxName("😀", false), "&2D3eAA-");
    assert.equal(decodeMailboxName("&2D3eAA-", false), "😀");
  });

  it("round-trips arbitrary names", () => {
    for (const name of ["a", "&&", "Ä&ö-ü", "日本語 & more", "x/😀/y", "-&-"]) {
      assert.equal(decodeMailboxName(encodeMailboxName(name, false), false), name);
    }
  });

  it("normalises any case of INBOX", () => {
    assert.equal(decodeMailboxName("inbox", false), "INBOX");
    assert.equal(decodeMailboxName("InBoX", true), "INBOX");
    assert.equal(decodeMailboxName("INBOX.x", false), "INBOX.x");
    assert.equal(encodeMailboxName("Inbox", false), "INBOX");
  });

  it("passes UTF-8 names through when UTF8=ACCEPT is enabled", () => {
    assert.equal(decodeMailboxName("Entwürfe", true), "Entwürfe");
    assert.equal(encodeMailboxName("Entwürfe", true), "Entwürfe");
  });

  it("refuses invalid modified UTF-7", () => {
    for (const bad of ["&U,BTFw", "&U,BTF-", "&AGE-", "&2D0-", "caf\u00e9", "&U/BTFw-", "&U,BTFx-"]) {
      assert.throws(() => decodeMailboxName(bad, false), Error, bad);
    }
  });
});

describe("ENVELOPE and BODYSTRUCTURE of parsed messages", () => {
  const rfcExample = crlf([
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)",
    "From: Terry Gray <gray@cac.washington.edu>",
    "Subject: IMAP4rev1 WG mtg summary and minutes",
    "To: imap@cac.washington.edu",
    "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>",
    "Message-Id: <B27397-0100000@cac.washington.edu>",
    "MIME-Version: 1.0",
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII",
    "",
    "line one",
    "line two",
    "",
  ]);

  it("matches the RFC 9051 FETCH example for a single text part", () => {
    const s = parseMessageBuffer(rfcExample);
    assert.equal(
      envelopeText(s.envelope),
      '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
        '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
        '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
        '"<B27397-0100000@cac.washington.edu>")',
    );
    assert.equal(bodyStructureText(s.body, false), '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 20 2)');
    assert.equal(bodyStructureText(s.body, true), '("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 20 2 NIL NIL NIL NIL)');
  });

  it("describes groups, 8-bit headers, nested message/rfc822, disposition, language, location and md5", () => {
    const s = parseMessageBuffer(
      crlf([
        "From: a@b.c",
        'To: Undisclosed: ;, "Q \\"x\\"" <q@x.y>',
        "Subject: héllo",
        "Content-Type: multipart/mixed; boundary=XX",
        "",
        "--XX",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable",
        "Content-Language: en, fr",
        "",
        "hi=",
        "",
        "--XX",
        "Content-Type: message/rfc822",
        'Content-Disposition: attachment; filename="fwd.eml"',
        "",
        "From: x@y.z",
        "Subject: inner",
        "",
        "inner body",
        "--XX",
        "Content-Type: application/octet-stream; name=a.bin",
        "Content-Transfer-Encoding: base64",
        "Content-ID: <id1@x>",
        "Content-Description: a file",
        "Content-Location: http://x/y",
        "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==",
        "",
        "AAEC",
        "--XX--",
        "",
      ]),
    );
    assert.equal(
      envelopeText(s.envelope),
      '(NIL {6}\r\nhéllo ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ' +
        '((NIL NIL "Undisclosed" NIL)(NIL NIL NIL NIL)("Q \\"x\\"" NIL "q" "x.y")) NIL NIL NIL NIL)',
    );
    const inner = '(NIL "inner" ((NIL NIL "x" "y.z")) ((NIL NIL "x" "y.z")) ((NIL NIL "x" "y.z")) NIL NIL NIL NIL NIL)';
    assert.equal(
      bodyStructureText(s.body, true),
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 5 1 NIL NIL ("en" "fr") NIL)' +
        `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 41 ${inner} ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 1 NIL NIL NIL NIL) 4 NIL ("ATTACHMENT" ("FILENAME" "fwd.eml")) NIL NIL)` +
        '("APPLICATION" "OCTET-STREAM" ("NAME" "a.bin") "<id1@x>" "a file" "BASE64" 4 "Q2hlY2sgSW50ZWdyaXR5IQ==" NIL NIL "http://x/y")' +
        ' "MIXED" ("BOUNDARY" "XX") NIL NIL NIL)',
    );
    assert.equal(
      bodyStructureText(s.body, false),
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 5 1)' +
        `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 41 ${inner} ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 10 1) 4)` +
        '("APPLICATION" "OCTET-STREAM" ("NAME" "a.bin") "<id1@x>" "a file" "BASE64" 4) "MIXED")',
    );
  });

  it("describes message/global like message/rfc822, with UTF-8 header strings as literals", () => {
    const s = parseMessageBuffer(crlf(["From: a@b.c", "Content-Type: message/global", "", "From: jörg@b.c", "Subject: grüße", "", "hällo", ""]));
    const jorg = '((NIL NIL {5}\r\njörg "b.c"))';
    assert.equal(
      bodyStructureText(s.body, false),
      `("MESSAGE" "GLOBAL" NIL NIL NIL "7BIT" 45 (NIL {7}\r\ngrüße ${jorg} ${jorg} ${jorg} NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 8 1) 4)`,
    );
  });

  it("nests multiparts and describes an unopened message/rfc822 as a basic part", () => {
    // A Content-Type without a charset parameter is described as given (NIL parameters).
    const s = parseMessageBuffer(
      crlf([
        "From: a@b.c",
        "Content-Type: multipart/mixed; boundary=outer",
        "",
        "--outer",
        "Content-Type: multipart/alternative; boundary=inner",
        "",
        "--inner",
        "Content-Type: text/plain",
        "",
        "plain",
        "--inner",
        "Content-Type: text/html",
        "",
        "<p>html</p>",
        "--inner--",
        "--outer",
        "Content-Type: message/rfc822",
        "Content-Transfer-Encoding: base64",
        "",
        "RnJvbTogeEB5LnoNCg0KYm9keQ==",
        "--outer--",
        "",
      ]),
    );
    assert.equal(
      bodyStructureText(s.body, false),
      '((("TEXT" "PLAIN" NIL NIL NIL "7BIT" 5 1)("TEXT" "HTML" NIL NIL NIL "7BIT" 11 1) "ALTERNATIVE")' +
        '("MESSAGE" "RFC822" NIL NIL NIL "BASE64" 28) "MIXED")',
    );
    assert.equal(envelopeText(s.envelope), '(NIL NIL ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) NIL NIL NIL NIL NIL)');
  });
});
