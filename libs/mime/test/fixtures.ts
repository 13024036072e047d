import { MessageBuilder } from "./fixture-builder.ts";

export interface Fixture {
  name: string;
  message: Buffer;
  builder: MessageBuilder;
}

function done(name: string, builder: MessageBuilder): Fixture {
  return { name, message: builder.build(), builder };
}

const PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/** multipart/related > multipart/alternative (text, html) + two inline images, with a preamble and an epilogue. */
export function alternativeWithInlineImages(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header(
    "root",
    `Return-Path: <alice@example.com>
Received: from mail.example.com (mail.example.com [192.0.2.10])
\tby mx.example.net with ESMTPS id 4Xy; Tue, 4 Mar 2025 09:15:02 +0100
From: "Alice Example" <alice@example.com>
To: Bob <bob@example.net>
Subject: Photos from the trip
Date: Tue, 4 Mar 2025 09:15:00 +0100
Message-ID: <photos.1@example.com>
MIME-Version: 1.0
Content-Type: multipart/related;
 boundary="----=_Part_rel_01";
 type="multipart/alternative"

`,
  );
  b.text(`This is a multi-part message in MIME format.
------=_Part_rel_01
`);
  b.header("1", `Content-Type: multipart/alternative; boundary="----=_Part_alt_02"\n\n`);
  b.text(`------=_Part_alt_02\n`);
  b.header("1.1", `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n`);
  b.body("1.1", `Hi Bob,\n\nhere are the photos =E2=80=94 enjoy!\n\n-- \nAlice`);
  b.text(`\n------=_Part_alt_02\n`);
  b.header("1.2", `Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n`);
  b.body("1.2", `<html><body><p>Hi Bob,</p><img src="cid:img1@example.com"><img src="cid:img2@example.com"></body></html>\n`);
  b.text(`\n------=_Part_alt_02--\n`);
  b.endBody("1");
  b.text(`\n------=_Part_rel_01\n`);
  b.header(
    "2",
    `Content-Type: image/png; name="beach.png"
Content-Transfer-Encoding: base64
Content-ID: <img1@example.com>
Content-Disposition: inline; filename="beach.png"

`,
  );
  b.body("2", `${PNG_B64}\n${PNG_B64}`);
  b.text(`\n------=_Part_rel_01\n`);
  b.header("3", `Content-Type: image/png\nContent-Transfer-Encoding: base64\nContent-ID: <img2@example.com>\nContent-Disposition: inline\n\n`);
  b.body("3", PNG_B64);
  b.text(`\n------=_Part_rel_01--\n`);
  b.text(`epilogue text\n`);
  b.endBody("root");
  return done("alternative with inline images", b);
}

/** multipart/mixed with attachments whose names use RFC 2231 (continuations, charset) and RFC 2047. */
export function mixedWithAttachments(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header(
    "root",
    `From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.de>
To: team@example.org
Cc: "Smith, John" <john@example.org>, mary@example.org
Subject: =?UTF-8?B?UXVhcnRhbHNiZXJpY2h0IOKAkyBRMQ==?=
Date: Mon, 3 Feb 2025 17:01:22 -0500 (EST)
Message-ID: <q1-report@example.de>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer-boundary

`,
  );
  b.text(`--outer-boundary\n`);
  b.header("1", `Content-Type: text/plain; charset=ISO-8859-1; format=flowed\nContent-Transfer-Encoding: 8bit\n\n`);
  b.text("");
  // 8-bit Latin-1 body bytes are written as-is by text(): keep them ASCII here and test 8-bit elsewhere.
  b.body("1", `Hello team,\nattached the report.\n`);
  b.text(`\n--outer-boundary\n`);
  b.header(
    "2",
    `Content-Type: application/pdf;
 name*0*=UTF-8''Quartalsbericht%20%E2%80%93%20;
 name*1*=Q1%202025.pdf
Content-Disposition: attachment;
 filename*0*=UTF-8''Quartalsbericht%20%E2%80%93%20;
 filename*1*=Q1%202025.pdf;
 size=1234
Content-Transfer-Encoding: base64
Content-Description: The report

`,
  );
  b.body("2", `JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K\nJVBERi0xLjQK`);
  b.text(`\n--outer-boundary\n`);
  b.header(
    "3",
    `Content-Type: text/csv; charset=utf-8; name="=?utf-8?Q?Zahlen_=C3=BCbersicht.csv?="
Content-Disposition: attachment; filename="=?utf-8?Q?Zahlen_=C3=BCbersicht.csv?="
Content-Language: de-DE, en
Content-Location: http://example.de/zahlen.csv
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

`,
  );
  b.body("3", `a,b\n1,2\n`);
  b.text(`\n--outer-boundary\n`);
  b.header("4", `Content-Type: application/octet-stream\nContent-Disposition: attachment; filename*=iso-8859-1'de'%E4rger.bin\nContent-Transfer-Encoding: base64\n\n`);
  b.body("4", `AAECAwQ=`);
  b.text(`\n--outer-boundary--\n`);
  b.endBody("root");
  return done("mixed with attachments", b);
}

/** A forward: multipart/mixed with a note, a forwarded multipart message and a forwarded single-part message. */
export function nestedForward(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header(
    "root",
    `From: Carol <carol@example.com>
To: Dave <dave@example.com>
Subject: Fwd: two messages
Date: 5 Mar 2025 08:00 GMT
Message-ID: <fwd@example.com>
In-Reply-To: <orig@example.com>
Content-Type: multipart/mixed; boundary="fwd-b"

`,
  );
  b.text(`--fwd-b\n`);
  b.header("1", `Content-Type: text/plain\n\n`);
  b.body("1", `See below.`);
  b.text(`\n--fwd-b\n`);
  b.header("2", `Content-Type: message/rfc822\nContent-Disposition: inline\n\n`);
  b.header(
    "2/message",
    `From: Erin <erin@example.org>
To: Carol <carol@example.com>
Subject: =?utf-8?Q?Caf=C3=A9?= plans
Date: Sun, 2 Mar 2025 20:10:00 +0000
Message-ID: <orig@example.com>
Content-Type: multipart/alternative; boundary="inner-b"

`,
  );
  b.text(`--inner-b\n`);
  b.header("2.1", `Content-Type: text/plain; charset=utf-8\n\n`);
  b.body("2.1", `Let's meet at the café.\n`);
  b.text(`\n--inner-b\n`);
  b.header("2.2", `Content-Type: text/html; charset=utf-8\n\n`);
  b.body("2.2", `<p>Let's meet at the café.</p>`);
  b.text(`\n--inner-b--\n`);
  b.endBody("2/message");
  b.endBody("2");
  b.text(`\n--fwd-b\n`);
  b.header("3", `Content-Type: message/rfc822\n\n`);
  b.header("3/message", `From: frank@example.net\nSubject: single\nContent-Type: text/plain; charset=us-ascii\n\n`);
  b.body("3/message", `Just text.\nTwo lines.\n`);
  b.endBody("3");
  b.text(`\n--fwd-b--\n`);
  b.endBody("root");
  return done("nested forward", b);
}

/** multipart/digest: children default to message/rfc822; a part without headers defaults to text/plain elsewhere. */
export function digestAndHeaderless(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header("root", `From: list@example.org\nSubject: Digest\nContent-Type: multipart/mixed; boundary=m\n\n`);
  b.text(`--m\n`);
  b.header("1", `\n`);
  b.body("1", `no headers at all`);
  b.text(`\n--m\n`);
  b.header("2", `Content-Type: multipart/digest; boundary=d\n\n`);
  b.text(`--d\n`);
  b.header("2.1", `\n`);
  b.header("2.1/message", `Subject: first\n\n`);
  b.body("2.1/message", `one`);
  b.endBody("2.1");
  b.text(`\n--d\n`);
  b.header("2.2", `Content-Type: text/plain\n\n`);
  b.body("2.2", `not a message`);
  b.text(`\n--d--\n`);
  b.endBody("2");
  b.text(`\n--m--\n`);
  b.endBody("root");
  return done("digest and header-less part", b);
}

/** Boundary lines with trailing whitespace, a missing final boundary and a nested multipart closed by its parent. */
export function sloppyBoundaries(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header("root", `Subject: sloppy\nContent-Type: multipart/mixed; boundary="x"\n\n`);
  b.text(`--x \t\n`);
  b.header("1", `Content-Type: multipart/alternative; boundary="y"\n\n`);
  b.text(`--y\n`);
  b.header("1.1", `Content-Type: text/plain\n\n`);
  b.body("1.1", `inner never closed\n--y-not-a-boundary\n--xx\n`);
  b.endBody("1");
  b.text(`\n--x  \n`);
  b.header("2", `Content-Type: text/plain\n\n`);
  b.text(`runs to the end, no final boundary\n`);
  b.endBody("2");
  b.endBody("root");
  return done("sloppy boundaries", b);
}

export function singlePart(eol: "\r\n" | "\n" = "\r\n"): Fixture {
  const b = new MessageBuilder(eol);
  b.header("root", `From: a@example.com\nSubject: plain\n\n`);
  b.body("root", `Hello\n\nbye\n`);
  return done("single part", b);
}

export function allFixtures(eol: "\r\n" | "\n" = "\r\n"): Fixture[] {
  return [alternativeWithInlineImages(eol), mixedWithAttachments(eol), nestedForward(eol), digestAndHeaderless(eol), sloppyBoundaries(eol), singlePart(eol)];
}

/** A typical ~10 KB delivered message: trace headers, authentication results, text + HTML, a small attachment. */
export function typicalMessage(): Buffer {
  const received = Array.from(
    { length: 4 },
    (_, i) => `Received: from relay${i}.example.net (relay${i}.example.net [192.0.2.${i + 1}])\r\n\tby mx.example.org (Postline) with ESMTPS id 01J${i}ABCDEF\r\n\tfor <bob@example.org>; Tue, 4 Mar 2025 09:15:0${i} +0000\r\n`,
  ).join("");
  const text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt.\r\n".repeat(30);
  const html = `<html><body>${"<p>Lorem ipsum dolor sit amet, <a href=\"https://example.com/x\">consectetur</a> adipiscing elit.</p>\r\n".repeat(25)}</body></html>`;
  const attachment = `${"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n".repeat(30)}`;
  return Buffer.from(
    `${received}Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.com; dkim=pass header.d=example.com; dmarc=pass
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel; h=from:to:subject:date:message-id;
 bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdHNpZ25hdHVyZXRlc3RzaWduYXR1cmV0ZXN0c2lnbmF0dXJl
From: =?UTF-8?Q?Ren=C3=A9e_Dupont?= <renee@example.com>
To: Bob <bob@example.org>, "Team, All" <team@example.org>
Cc: carol@example.org
Subject: =?UTF-8?B?UXVhcnRhbHNiZXJpY2h0IOKAkyBRMQ==?=
Date: Tue, 4 Mar 2025 09:15:00 +0000
Message-ID: <20250304091500.12345@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-1"

--mixed-1
Content-Type: multipart/alternative; boundary="alt-1"

--alt-1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

${text}
--alt-1
Content-Type: text/html; charset=utf-8

${html}
--alt-1--

--mixed-1
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

${attachment}
--mixed-1--
`.replace(/\r?\n/g, "\r\n"),
  );
}
