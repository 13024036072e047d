import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDnsServer, type DnsServer } from "@postline/testkit";
import { createClassifier, createDnsResolver, type Classifier, type ClassifyResult } from "../src/index.ts";
import { ip, message, multipart, streamOf, zones, type MessageParts } from "./fixtures.ts";

describe("rules", () => {
  let dns: DnsServer;
  let classifier: Classifier;

  before(async () => {
    dns = await startDnsServer(zones);
    classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), dnsblZones: ["bl.test"] });
  });
  after(() => dns.stop());

  const run = (raw: Buffer, client = ip.sender, sessionSymbols: string[] = []) =>
    classifier.classify({
      open: streamOf(raw),
      size: raw.length,
      source: "inbound",
      client: { ip: client, helo: "mail.sender.test" },
      mailFrom: "alice@sender.test",
      sessionSymbols,
    });
  const hit = (r: ClassifyResult, name: string) => r.symbols.find((s) => s.name === name);
  const encodedWord = (subject: string) => `=?UTF-8?B?${Buffer.from(subject).toString("base64")}?=`;
  const text = (body: string) => message({ mime: { contentType: "text/plain; charset=utf-8", body } });
  const dialupReceived = "Received: from pc17.dialup.example.test ([198.51.100.23]) by mx.example.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000";
  const contentSymbols = ["MISSING_DATE", "MISSING_MESSAGE_ID", "MISSING_MIME_VERSION", "FROM_INVALID", "REPLYTO_DOMAIN_MISMATCH", "SUBJECT_SHOUTING", "MIME_HTML_ONLY", "HTML_NO_HTML_TAG", "HTML_NO_TITLE", "HTML_FONT_HUGE", "HEADER_8BIT_RAW", "TEXT_8BIT_UNDECLARED", "MSGID_FROM_RELAY", "NEWSLETTER_SIGNED", "RCVD_HELO_IP_MISMATCH", "FORGED_PROVIDER_HELO", "STOCK_PROMOTION", "URL_TEXT_MISMATCH", "ADVANCE_FEE", "ADVANCE_FEE_MANY", "SPAM_PHRASES", "SPAM_PHRASES_MANY", "SUBJECT_AD_MARK", "SUBJECT_PADDED", "FORGED_OUTLOOK_MSGID", "FORGED_MUA_OUTLOOK", "FORGED_MUA_MSGID", "FORGED_FREEMAIL_RCVD", "FORGED_RECEIVED_DATE", "HEADER_CASE_ODD", "DATE_INVALID", "DATE_IN_FUTURE", "BODY_RANDOM_TAIL", "ADULT_CONTENT", "URL_NUMERIC_HOST", "EXECUTABLE_ATTACHMENT", "MACRO_ATTACHMENT", "RBL_LISTED", "RDNS_NONE", "RDNS_NOT_CONFIRMED"];

  test("a clean message hits no content or connection symbol", async () => {
    const clean = message({
      replyTo: "Alice <alice@lists.sender.test>",
      subject: "Re: Q3 figures for the ACME board",
      mime: multipart("b1", [
        { headers: ["Content-Type: text/plain"], body: "See https://sender.test/report" },
        { headers: ["Content-Type: text/html"], body: '<p>See <a href="https://www.sender.test/report">sender.test/report</a> or <a href="https://x.test">click here</a></p>' },
        { headers: ["Content-Type: application/pdf", 'Content-Disposition: attachment; filename="report.pdf"', "Content-Transfer-Encoding: base64"], body: Buffer.from("%PDF-1.4 test").toString("base64") },
      ]),
    });
    const r = await run(clean);
    assert.deepEqual(r.errors, []);
    for (const name of contentSymbols) assert.equal(hit(r, name), undefined, name);
    assert.equal(r.action, "deliver");
  });

  const cases: Array<{ symbol: string; parts: MessageParts; detail?: RegExp }> = [
    { symbol: "MISSING_DATE", parts: { date: null } },
    { symbol: "MISSING_MESSAGE_ID", parts: { messageId: null } },
    { symbol: "FROM_INVALID", parts: { from: null }, detail: /no From/ },
    { symbol: "FROM_INVALID", parts: { from: "Alice <alice-at-sender.test>" } },
    { symbol: "FROM_INVALID", parts: { from: "alice@sender.test", extraHeaders: ["From: mallory@evil.test"] }, detail: /2 From/ },
    { symbol: "REPLYTO_DOMAIN_MISMATCH", parts: { replyTo: "payments@evil-collector.test" }, detail: /sender\.test vs evil-collector\.test/ },
    { symbol: "SUBJECT_SHOUTING", parts: { subject: "URGENT: CLAIM YOUR PRIZE NOW!!!" } },
    { symbol: "MIME_HTML_ONLY", parts: { mime: { contentType: "text/html; charset=utf-8", body: "<p>Hello</p>" } } },
    { symbol: "HTML_NO_HTML_TAG", parts: { mime: { contentType: "text/html; charset=utf-8", body: "<p>Hello</p>" } } },
    { symbol: "HTML_NO_TITLE", parts: { mime: { contentType: "text/html; charset=utf-8", body: "<html><head><title> </title></head><body><p>Hello</p></body></html>" } } },
    { symbol: "HTML_FONT_HUGE", parts: { mime: { contentType: "text/html", body: '<html><body><font size="+3">FREE</font> quote</body></html>' } } },
    { symbol: "HTML_FONT_HUGE", parts: { mime: { contentType: "text/html", body: "<html><body><FONT face=Arial SIZE=7>Act now</FONT></body></html>" } } },
    {
      symbol: "URL_TEXT_MISMATCH",
      parts: { mime: { contentType: "text/html", body: '<a href="http://203.0.113.9.evil.test/login">https://www.paypal.com/signin</a>' } },
      detail: /www\.paypal\.com -> 203\.0\.113\.9\.evil\.test/,
    },
    {
      symbol: "URL_TEXT_MISMATCH",
      parts: { mime: { contentType: "text/html", body: '<a href=\'https://bank.evil.test\'><b>mybank.com</b></a>' } },
    },
    { symbol: "SUBJECT_AD_MARK", parts: { subject: encodedWord("未承諾広告※出会いの広場") } },
    { symbol: "SUBJECT_AD_MARK", parts: { subject: encodedWord("(광고) 여름 특가") } },
    { symbol: "SUBJECT_AD_MARK", parts: { subject: "ADV: Lowest mortgage rates in 30 years" } },
    { symbol: "SUBJECT_PADDED", parts: { subject: "Lower your rates today          1784abx" } },
    { symbol: "FORGED_OUTLOOK_MSGID", parts: { messageId: "<026b34a08d1d$4638c0a2$7cc54de3@stkaxu>" }, detail: /id time/ },
    { symbol: "FORGED_OUTLOOK_MSGID", parts: { messageId: "<000801c24e1a$e6b5c0a0$0200a8c0@desktop>" }, detail: /2002-08/ },
    { symbol: "FORGED_MUA_OUTLOOK", parts: { extraHeaders: ["X-Mailer: Microsoft Outlook Express 6.00.2600.0000"] }, detail: /without X-MimeOLE/ },
    { symbol: "FORGED_FREEMAIL_RCVD", parts: { from: "Jane <jane.doe4711@hotmail.com>", extraHeaders: [dialupReceived] }, detail: /^hotmail\.com$/ },
    { symbol: "FORGED_FREEMAIL_RCVD", parts: { from: "<offers@yahoo.co.uk>", extraHeaders: [dialupReceived] } },
    {
      symbol: "FORGED_MUA_OUTLOOK",
      parts: { extraHeaders: ["X-Mailer: Microsoft Outlook Express 5.50.4522.1200", "X-MimeOLE: Produced By Microsoft MimeOLE V5.50.4522.1200"] },
      detail: /another Message-ID form/,
    },
    { symbol: "FORGED_MUA_OUTLOOK", parts: { messageId: "<000801c24e1a$e6b5c0a0$0200a8c0@desktop>" }, detail: /Outlook Message-ID without X-MimeOLE/ },
    { symbol: "FORGED_MUA_MSGID", parts: { messageId: "<016c58d11c3e$1381a0d1$5db47ed1@yxxpql>", extraHeaders: ["X-Mailer: Internet Mail Service (5.5.2650.21)"] }, detail: /^Exchange IMS/ },
    { symbol: "FORGED_MUA_MSGID", parts: { messageId: "<R-7V694FYDJYQF2cOrB0000000e@andromeda>", extraHeaders: ["X-Mailer: The Bat! (v1.52f) Business"] }, detail: /^The Bat!/ },
    { symbol: "FORGED_MUA_MSGID", parts: { messageId: "<003a50e80cbd$5537c5b5$5ee52ad7@fdpcqw>", extraHeaders: ["X-Mailer: QUALCOMM Windows Eudora Version 5.1"] }, detail: /^Eudora/ },
    {
      symbol: "FORGED_RECEIVED_DATE",
      parts: { extraHeaders: ["Received: from a231242.upc-a.example.test ([96.216.72.224]) by m10.grp.example.test with NNFMP;\r\n    Aug, 28 2002 7:45:10 AM -0200"] },
    },
    { symbol: "HEADER_CASE_ODD", parts: { from: null, extraHeaders: ["FRom: Alice <alice@sender.test>"] }, detail: /^FRom$/ },
    { symbol: "DATE_INVALID", parts: { date: "Sat, 7 Sep 2002 17:58:28" } },
    { symbol: "DATE_INVALID", parts: { date: "Aug 28 2002 9:58AM" } },
    { symbol: "DATE_INVALID", parts: { date: "Tue, 10 Mar 2026 10:00:00 +1900" }, detail: /^zone \+1900$/ },
    { symbol: "DATE_INVALID", parts: { date: "Tue, 10 Mar 2026 10:00:00 -0073" }, detail: /^zone -0073$/ },
    {
      symbol: "DATE_IN_FUTURE",
      parts: { date: "Wed, 11 Mar 2026 10:00:00 +0000", extraHeaders: ["Received: from mail.sender.test ([192.0.2.1]) by mx.example.test with ESMTP id 4Xyz;\r\n    Tue, 10 Mar 2026 10:00:01 +0000 (UTC)"] },
      detail: /^24 h ahead$/,
    },
    { symbol: "BODY_RANDOM_TAIL", parts: { mime: { contentType: "text/plain", body: "me and my friend are online now\r\n\r\n\r\nkludlkaiplcqcnnaigaybaxhesrhltsp\r\n\r\n" } } },
    { symbol: "BODY_RANDOM_TAIL", parts: { mime: { contentType: "text/plain", body: "Lowest rates guaranteed.\r\n\r\n4139vOLW7-758DoDY1425FRhM1-764SMFc8513l40\r\n" } } },
    { symbol: "STOCK_PROMOTION", parts: { mime: { contentType: "text/plain", body: "Research Alert\r\nXrayMedia (OTCBB: XRMD)\r\nRecent price $0.08, 18-month target price: $5.00+\r\n" } }, detail: /^otcbb, target price$/ },
    { symbol: "ADULT_CONTENT", parts: { mime: { contentType: "text/plain", body: "Hot teens on live webcams, 100% nude! See them now." } } },
    { symbol: "URL_NUMERIC_HOST", parts: { mime: { contentType: "text/plain", body: "Order here: http://203.0.113.9/offer.html" } }, detail: /^203\.0\.113\.9$/ },
    { symbol: "URL_NUMERIC_HOST", parts: { mime: { contentType: "text/html", body: '<a href="http://user@198.51.100.7:8080/x">our shop</a>' } } },
    {
      symbol: "EXECUTABLE_ATTACHMENT",
      parts: { mime: multipart("b2", [{ headers: ["Content-Type: text/plain"], body: "invoice" }, { headers: ["Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="invoice.pdf.exe"'], body: "xx" }]) },
      detail: /invoice\.pdf\.exe/,
    },
    {
      symbol: "EXECUTABLE_ATTACHMENT",
      parts: { mime: multipart("b3", [{ headers: ["Content-Type: text/plain"], body: "see" }, { headers: ['Content-Type: application/x-msdownload; name="setup"', "Content-Disposition: attachment"], body: "yy" }]) },
    },
    {
      symbol: "EXECUTABLE_ATTACHMENT",
      parts: { mime: multipart("b4", [{ headers: ["Content-Type: text/plain"], body: "scan" }, { headers: ["Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="scan.dat"', "Content-Transfer-Encoding: base64"], body: Buffer.from("MZ\x90\x00\x03").toString("base64") }]) },
    },
    {
      symbol: "EXECUTABLE_ATTACHMENT",
      parts: { mime: multipart("b5", [{ headers: ["Content-Type: text/plain"], body: "hi" }, { headers: ["Content-Type: text/plain", 'Content-Disposition: attachment; filename="run.JS"'], body: "WScript.Echo(1)" }]) },
    },
    {
      symbol: "MACRO_ATTACHMENT",
      parts: { mime: multipart("b6", [{ headers: ["Content-Type: text/plain"], body: "q" }, { headers: ["Content-Type: application/vnd.ms-excel.sheet.macroEnabled.12", 'Content-Disposition: attachment; filename="budget.xlsm"'], body: "zz" }]) },
      detail: /budget\.xlsm/,
    },
    {
      symbol: "MACRO_ATTACHMENT",
      parts: { mime: multipart("b7", [{ headers: ["Content-Type: text/plain"], body: "q" }, { headers: ["Content-Type: application/octet-stream", 'Content-Disposition: attachment; filename="offer.docm"'], body: "zz" }]) },
    },
  ];
  for (const { symbol, parts, detail } of cases) {
    test(`${symbol} fires on ${JSON.stringify(parts).slice(0, 90)}`, async () => {
      const r = await run(message(parts));
      const found = hit(r, symbol);
      assert.ok(found, `${symbol} in ${JSON.stringify(r.symbols)}`);
      if (detail) assert.match(found.detail ?? "", detail);
    });
  }

  test("bulk-mail signs stay quiet on their near misses: a real Outlook id, a whole HTML document in type sizes up to 5, exchange-listed shares and an OTC listing without a pitch, ticket numbers and rules as last lines, 24-hour Received dates, a Date 10 hours ahead, usual header cases, valid dates, two explicit words, named hosts", async () => {
    const date = "Tue, 10 Mar 2026 10:00:00 +0000";
    const filetimeHigh = Math.floor(((Date.parse(date) - Date.UTC(1601, 0, 1)) * 10_000) / 2 ** 32).toString(16).padStart(8, "0");
    const nearMisses: MessageParts[] = [
      { date, messageId: `<0007${filetimeHigh}$4638c0a2$0200a8c0@desktop>`, extraHeaders: ["X-Mailer: Microsoft Outlook, Build 10.0.2627", "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2800.1106"] },
      { messageId: `<0007${filetimeHigh}$4638c0a2$0200a8c0@desktop>`, extraHeaders: ["X-Mailer: Microsoft Outlook Express 6.00.2800.1106", "X-MimeOLE: Produced By Microsoft MimeOLE V6.00.2800.1106"] },
      { date, messageId: `<0007${filetimeHigh}$4638c0a2$0200a8c0@exchange.sender.test>`, extraHeaders: ["Received: from mail.sender.test ([192.0.2.5]) by exchange.sender.test with Microsoft Exchange Server 2003; Tue, 10 Mar 2026 10:00:01 +0000"] },
      { messageId: "<000001c7a8b9$c0f5b5a0$42e120e0$@sender.test>", extraHeaders: ["X-Mailer: Microsoft Office Outlook 12.0"] },
      { messageId: "<B0A9C6D7E1F2A3B4C5D6E7F8A9B0C1D2E3F4A5B6@exchange.sender.test>", extraHeaders: ["X-Mailer: Internet Mail Service (5.5.2653.19)"] },
      { messageId: "<1784512239.20260310100000@sender.test>", extraHeaders: ["X-Mailer: The Bat! (v4.0.24) Professional"] },
      { messageId: "<5.1.0.14.2.20260310100000.02a78308@sender.test>", extraHeaders: ["X-Mailer: QUALCOMM Windows Eudora Version 5.1"] },
      { extraHeaders: ["Received: from mail.sender.test (mail.sender.test [192.0.2.1]) by mx.example.test with ESMTPS id 4Xyz;\r\n    Tue, 10 Mar 2026 10:00:01 +0000 (UTC)"] },
      { date: "Tue, 10 Mar 2026 20:00:00 +0000", extraHeaders: ["Received: from mail.sender.test ([192.0.2.1]) by mx.example.test with ESMTP id 4Xyz; Tue, 10 Mar 2026 10:00:01 +0000"] },
      { messageId: null, extraHeaders: ["Message-Id: <a1@sender.test>", "CC: carol@example.test", "content-transfer-encoding: 7bit"] },
      { date: "10 Mar 2026 10:00:00 -0000" },
      { date: "Tue,  10 Mar 2026 05:00:00 -0500 (EST)" },
      { date: "Tue, 10 Mar 2026 15:45:00 +0545" },
      { date: "Tue, 10 Mar 2026 00:30:00 -0930" },
      { date: "Wed, 11 Mar 2026 00:00:00 +1400" },
      { subject: "Minutes  of the meeting" },
      { subject: encodedWord("会議の議事録") },
      { subject: "ADVANCED topics: the agenda" },
      { mime: { contentType: "text/plain", body: "The article on teens and webcams is attached.\r\nhttps://www.sender.test/1.2.3.4/report\r\nSee http://198.51.100.7.nip.example.test/\r\n" } },
      { mime: { contentType: "text/plain", body: "Regards,\r\nAlice\r\nhttps://sender.test/unsubscribe?id=kludlkaiplcqcnnaigaybaxhesrhltsp\r\n" } },
      { mime: { contentType: "text/plain", body: "Akamai (NASDAQ: AKAM) looks undervalued after the outage, analysts say; strong buy.\r\n" } },
      { mime: { contentType: "text/plain", body: "The company moved from the OTC BB to the Nasdaq SmallCap market last year.\r\n" } },
      { mime: { contentType: "text/plain", body: "Your ticket number is\r\nticket-20260310-000417-support\r\n" } },
      { mime: { contentType: "text/plain", body: "Alice\r\n--------------------------------------\r\n" } },
      { mime: { contentType: "text/html", body: '<!DOCTYPE html>\r\n<HTML><head><TITLE lang="en">Minutes</TITLE></head><body><font size="+2">Minutes</font> <font size=5>of the meeting</font></body></HTML>' } },
    ];
    const fresh = ["HTML_NO_HTML_TAG", "HTML_NO_TITLE", "HTML_FONT_HUGE", "STOCK_PROMOTION", "FORGED_MUA_OUTLOOK", "FORGED_MUA_MSGID", "SUBJECT_AD_MARK", "SUBJECT_PADDED", "FORGED_OUTLOOK_MSGID", "FORGED_RECEIVED_DATE", "HEADER_CASE_ODD", "DATE_INVALID", "DATE_IN_FUTURE", "BODY_RANDOM_TAIL", "ADULT_CONTENT", "URL_NUMERIC_HOST"];
    for (const parts of nearMisses) {
      const r = await run(message(parts));
      for (const name of fresh) assert.equal(hit(r, name), undefined, `${name} on ${JSON.stringify(parts)}`);
    }
  });

  test("MISSING_MIME_VERSION: an HTML body without MIME-Version; plain text without it is no sign", async () => {
    const withoutVersion = (parts: MessageParts) => Buffer.from(message(parts).toString("latin1").replace("MIME-Version: 1.0\r\n", ""), "latin1");
    const html = await run(withoutVersion({ mime: { contentType: "text/html", body: "<p>Lowest rates</p>" } }));
    assert.ok(hit(html, "MISSING_MIME_VERSION"), JSON.stringify(html.symbols));
    const plain = await run(withoutVersion({ mime: { contentType: "text/plain", body: "Lunch?" } }));
    assert.equal(hit(plain, "MISSING_MIME_VERSION"), undefined);
    const versioned = await run(message({ mime: { contentType: "text/html", body: "<p>Minutes</p>" } }));
    assert.equal(hit(versioned, "MISSING_MIME_VERSION"), undefined);
  });

  test("HEADER_8BIT_RAW: a Subject or From in raw national-charset bytes; encoded words, raw UTF-8 and a single stray byte are no sign", async () => {
    const withSubject = (subject: Buffer, from?: Buffer) => {
      const [head, body] = message({ subject: "SUBJECT", from: from ? "FROM" : undefined }).toString("latin1").split("\r\n\r\n") as [string, string];
      const parts = head.split(/(SUBJECT|FROM)/);
      return Buffer.concat([...parts.map((p) => (p === "SUBJECT" ? subject : p === "FROM" && from ? from : Buffer.from(p, "latin1"))), Buffer.from(`\r\n\r\n${body}`, "latin1")]);
    };
    const gb2312 = Buffer.from([0xc3, 0xe2, 0xb7, 0xd1, 0xd3, 0xc5, 0xbb, 0xdd]);
    const subject = await run(withSubject(Buffer.concat([Buffer.from("[ILUG] "), gb2312])));
    assert.match(hit(subject, "HEADER_8BIT_RAW")?.detail ?? "", /^Subject$/, JSON.stringify(subject.symbols));
    const from = await run(withSubject(Buffer.from("Lunch"), Buffer.concat([Buffer.from("From: "), gb2312, Buffer.from(" <sales@sender.test>")])));
    assert.match(hit(from, "HEADER_8BIT_RAW")?.detail ?? "", /^From$/, JSON.stringify(from.symbols));
    for (const quiet of [Buffer.from(encodedWord("免费优惠")), Buffer.from("Réunion à midi, café inclus"), Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x61, 0x74, 0x20, 0x6e, 0x6f, 0x6f, 0x6e])]) {
      const r = await run(withSubject(quiet));
      assert.equal(hit(r, "HEADER_8BIT_RAW"), undefined, quiet.toString("latin1"));
    }
  });

  test("TEXT_8BIT_UNDECLARED: a text part that names no charset, or US-ASCII, with dozens of raw 8-bit bytes; a declared charset, encoded bodies and a stray accented letter are no sign", async () => {
    const gb2312 = Buffer.from([0xc3, 0xe2, 0xb7, 0xd1, 0xd3, 0xc5, 0xbb, 0xdd]);
    const national = Buffer.concat(Array.from({ length: 5 }, () => gb2312)).toString("latin1");
    const withBody = (contentType: string, body: string) => Buffer.from(message({ mime: { contentType, body: "BODY" } }).toString("latin1").replace("BODY", body), "latin1");
    for (const contentType of ["text/plain", "text/plain; charset=us-ascii", "text/html"]) {
      const r = await run(withBody(contentType, `Fair 2003 ${national}\r\n`));
      assert.equal(hit(r, "TEXT_8BIT_UNDECLARED")?.detail, "40 bytes", `${contentType}: ${JSON.stringify(r.symbols)}`);
    }
    const inPart = multipart("b1", [
      { headers: ["Content-Type: text/plain; charset=utf-8"], body: "Programme attached" },
      { headers: ["Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"], body: national },
    ]);
    assert.ok(hit(await run(withBody(inPart.contentType, inPart.body)), "TEXT_8BIT_UNDECLARED"), "a part of a multipart message");
    const quiet = [
      withBody("text/plain; charset=gb2312", national),
      withBody('text/plain; charset="GB2312"', national),
      withBody("text/plain", "Caf\xe9 at noon, see you there. Ren\xe9e\r\n"),
      message({ mime: { contentType: "text/plain", body: "Q2Fmw6kgYXQgbm9vbg==" } }),
      withBody("application/octet-stream", national),
    ];
    for (const raw of quiet) assert.equal(hit(await run(raw), "TEXT_8BIT_UNDECLARED"), undefined, raw.toString("latin1").split("\r\n\r\n")[0]);
  });

  test("NEWSLETTER_SIGNED: HTML with a copyright notice and a link into the From address's own domain; without either, or linking only elsewhere, no sign", async () => {
    const html = (body: string, from = "News <news@sender.test>") => message({ from, mime: { contentType: "text/html", body: `<html><head><title>Weekly</title></head><body>${body}</body></html>` } });
    const home = '<a href="http://www.sender.test/unsubscribe">Unsubscribe</a>';
    const signed = await run(html(`<p>This week's news</p>${home}<p>&copy; 2026 Sender Inc.</p>`));
    assert.equal(hit(signed, "NEWSLETTER_SIGNED")?.detail, "sender.test", JSON.stringify(signed.symbols));
    assert.ok((hit(signed, "NEWSLETTER_SIGNED")?.score ?? 0) < 0, "a ham sign");
    assert.ok(hit(await run(html(`${home}<p>Copyright 2026 Sender Inc.</p>`)), "NEWSLETTER_SIGNED"), "the word");
    const quiet = [
      html(`<p>This week's news</p>${home}`),
      html('<a href="http://offers.example.test/buy">Buy</a><p>&copy; 2026 Offers</p>'),
      html(`${home}<p>&copy; 2026 Sender Inc.</p>`, "Deals <deals@other.test>"),
      message({ mime: { contentType: "text/plain; charset=utf-8", body: "(c) 2026 Sender Inc. http://www.sender.test/" } }),
    ];
    for (const raw of quiet) assert.equal(hit(await run(raw), "NEWSLETTER_SIGNED"), undefined, raw.toString().split("\r\n\r\n")[1]);
  });

  test("MSGID_FROM_RELAY: a Message-ID below a Received field was added on the way; one written with the message, a big provider's webmail id, and a message without Received fields are no sign", async () => {
    const received = "Received: from pc17.dialup.example.test ([198.51.100.23]) by relay.sender.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000";
    const relayAdded = await run(message({ messageId: "<200203101000.g2AA01x12345@relay.sender.test>", extraHeaders: [received] }));
    assert.equal(hit(relayAdded, "MSGID_FROM_RELAY")?.detail, "relay.sender.test", JSON.stringify(relayAdded.symbols));
    const quiet = [
      Buffer.concat([Buffer.from(`${received}\r\n`), message()]),
      message({ messageId: "<20020827193152.56961.qmail@web13705.mail.yahoo.com>", extraHeaders: [received] }),
      message(),
    ];
    for (const raw of quiet) assert.equal(hit(await run(raw), "MSGID_FROM_RELAY"), undefined, raw.toString("latin1").split("\r\n\r\n")[0]);
  });

  test("RCVD_HELO_IP_MISMATCH: a relay's client greeted with an address of another network; our own field, neighbours and private addresses are no sign", async () => {
    const ours = "Received: from mail.sender.test (mail.sender.test [192.0.2.1]) by mx.example.test with ESMTP; Tue, 10 Mar 2026 10:00:02 +0000";
    const relayed = (from: string) => message({ extraHeaders: [ours, `Received: from ${from} by relay.sender.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000`] });
    const r = await run(relayed("200.161.16.132 (pc1.dsl.example.test [210.19.113.130])"));
    assert.match(hit(r, "RCVD_HELO_IP_MISMATCH")?.detail ?? "", /^HELO 200\.161\.16\.132 from 210\.19\.113\.130$/, JSON.stringify(r.symbols));
    assert.ok(hit(await run(relayed("[198.51.100.7] ([203.0.113.9])")), "RCVD_HELO_IP_MISMATCH"));
    for (const from of ["198.51.100.7 (host.sender.test [198.51.100.7])", "137.43.13.22 (smtp.sender.test [137.43.213.15])", "192.168.1.20 (gw.sender.test [198.51.100.7])", "mail.sender.test (mail.sender.test [198.51.100.7])"]) {
      assert.equal(hit(await run(relayed(from)), "RCVD_HELO_IP_MISMATCH"), undefined, from);
    }
    const customer = message({ extraHeaders: [ours, "Received: from [209.202.248.109] (slip-32-103-249-10.ma.sender.test [32.103.249.10]) by out4.sender.test with ESMTP; Tue, 10 Mar 2026 10:00:01 +0000"] });
    assert.equal(hit(await run(customer), "RCVD_HELO_IP_MISMATCH"), undefined, "a dial-up customer submitting to its own provider");
    const topmostOnly = message({ extraHeaders: ["Received: from 200.161.16.132 (pc1.dsl.example.test [210.19.113.130]) by mx.example.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000"] });
    assert.equal(hit(await run(topmostOnly), "RCVD_HELO_IP_MISMATCH"), undefined, "the topmost field");
  });

  test("FORGED_PROVIDER_HELO: a client greeting as a big provider's bare domain from elsewhere; the provider's own relays and its customers' submissions are no sign", async () => {
    const ours = "Received: from relay.sender.test (relay.sender.test [192.0.2.1]) by mx.example.test with ESMTP; Tue, 10 Mar 2026 10:00:02 +0000";
    const relayed = (from: string) => message({ extraHeaders: [ours, `Received: from ${from}; Tue, 10 Mar 2026 10:00:01 +0000`] });
    const forged = await run(relayed("yahoo.com (200-171-13-198.dsl.example.test [200.171.13.198]) by relay.sender.test with SMTP"));
    assert.match(hit(forged, "FORGED_PROVIDER_HELO")?.detail ?? "", /^HELO yahoo\.com from 200-171-13-198\.dsl\.example\.test$/, JSON.stringify(forged.symbols));
    assert.ok(hit(await run(relayed("hotmail.com ([203.0.113.9]) by relay.sender.test with SMTP")), "FORGED_PROVIDER_HELO"), "no reverse name");
    for (const from of [
      "hotmail.com (f160.law15.hotmail.com [64.4.31.160]) by relay.sender.test with SMTP",
      "1cust36.dialup.example.test ([198.51.100.36] helo=mindspring.com) by hall.mail.mindspring.net with esmtp (Exim 3.33 #1)",
      "mail.yahoo.com (pc1.dsl.example.test [198.51.100.7]) by relay.sender.test with SMTP",
      "sender.test (pc1.dsl.example.test [198.51.100.7]) by relay.sender.test with SMTP",
    ]) {
      assert.equal(hit(await run(relayed(from)), "FORGED_PROVIDER_HELO"), undefined, from);
    }
    const topmostOnly = message({ extraHeaders: ["Received: from yahoo.com (pc1.dsl.example.test [198.51.100.7]) by mx.example.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000"] });
    assert.equal(hit(await run(topmostOnly), "FORGED_PROVIDER_HELO"), undefined, "the topmost field");
  });

  test("FORGED_FREEMAIL_RCVD stays quiet when the provider relayed the message, on replies and list posts, for other domains, and on submitted mail", async () => {
    const jane = "Jane <jane.doe4711@hotmail.com>";
    const nearMisses: MessageParts[] = [
      { from: jane, extraHeaders: ["Received: from law2-f45.hotmail.com (law2-f45.hotmail.com [64.4.30.45]) by mx.example.test with ESMTP; Tue, 10 Mar 2026 10:00:01 +0000"] },
      { from: "<jane@yahoo.co.uk>", extraHeaders: ["Received: from web21407.mail.yahoo.com (web21407.mail.yahoo.com [216.136.232.77]) by mx.example.test with SMTP; Tue, 10 Mar 2026 10:00:01 +0000"] },
      { from: "<jane@aol.com>", extraHeaders: ["Received: from sonic305-22.consmr.mail.bf2.yahoo.com (sonic305-22.consmr.mail.bf2.yahoo.com [74.6.133.61]) by mx.example.test with ESMTPS; Tue, 10 Mar 2026 10:00:01 +0000"] },
      { from: jane, extraHeaders: [dialupReceived, "In-Reply-To: <a1@sender.test>"] },
      { from: jane, subject: "Re: Lunch on Thursday", extraHeaders: [dialupReceived] },
      { from: jane, extraHeaders: [dialupReceived, "List-Id: <users.lists.example.test>"] },
      { from: "Jane <jane@hotmail-fans.example.test>", extraHeaders: [dialupReceived] },
    ];
    for (const parts of nearMisses) assert.equal(hit(await run(message(parts)), "FORGED_FREEMAIL_RCVD"), undefined, JSON.stringify(parts));
    const raw = message({ from: jane, extraHeaders: [dialupReceived] });
    const submitted = await classifier.classify({ open: streamOf(raw), size: raw.length, source: "submission", client: { ip: ip.sender, helo: "laptop", authUser: "jane" }, mailFrom: "jane.doe4711@hotmail.com", sessionSymbols: [] });
    assert.equal(hit(submitted, "FORGED_FREEMAIL_RCVD"), undefined, "submitted mail");
  });

  test("ADVANCE_FEE from four ingredients of the story, ADVANCE_FEE_MANY from five, HTML too; ordinary business mail with money and a transfer is neither", async () => {
    const story = [
      "Dear Sir,",
      "I am Mr. Kofi Mensah, son of the late president's finance adviser.",
      "Before his death my father deposited US$18.5M with a security company abroad.",
      "I seek your assistance to transfer the funds into a foreign account in strict confidence.",
      "You will keep 25% of the total sum for your help.",
    ];
    const whole = story.join("\r\n");
    assert.equal(hit(await run(text(whole)), "ADVANCE_FEE_MANY")?.detail, "6 of 6");
    assert.equal(hit(await run(text(whole)), "ADVANCE_FEE"), undefined, "one symbol per letter");
    const html = message({ mime: { contentType: "text/html", body: `<p>${whole.replace(/\r\n/g, "<br>")}</p>` } });
    assert.ok(hit(await run(html), "ADVANCE_FEE_MANY"), "HTML turned into text");
    const shorter = [story[0], story[2], story[3], story[4]].join("\r\n");
    assert.equal(hit(await run(text(shorter)), "ADVANCE_FEE")?.detail, "4 of 6");
    const partnerLetter = [
      "Dear Partner to be, I must apologise for using this medium to contact you.",
      "I am a highly placed official of the Government of Nigeria. As civil servants we cannot own accounts abroad,",
      "so we need a foreign partner whose account will receive the sum of $49.5m.",
      "Treat this transaction with utmost secrecy, and reply to negotiate the percentage you wish to be paid.",
    ].join("\r\n");
    assert.equal(hit(await run(text(partnerLetter)), "ADVANCE_FEE_MANY")?.detail, "5 of 6", "the story told without a named dead man or a figured share");
    const business = [
      "Hi team, the board approved the $2.5 million budget for Q3. Finance will transfer the funds to the",
      "project account on Monday. The figures are confidential until the announcement.",
    ].join("\r\n");
    const ordinary = await run(text(business));
    assert.equal(hit(ordinary, "ADVANCE_FEE") ?? hit(ordinary, "ADVANCE_FEE_MANY"), undefined, "three ingredients at most");
  });

  test("SPAM_PHRASES: three kinds of stock phrases, SPAM_PHRASES_MANY from four; a newsletter's click-here and free trial are not enough", async () => {
    const ad = [
      "Dear Friend,",
      "Work from home and earn $5,000 a month. 100% guaranteed, no risk!",
      "Act now: this offer ends Friday. Click here to join.",
      "To be removed from our mailing list, reply with REMOVE in the subject.",
    ].join("\r\n");
    assert.match(hit(await run(text(ad)), "SPAM_PHRASES_MANY")?.detail ?? "", /^[4-9] kinds$/);
    const three = "Earn $500 a week from home. 100% guaranteed. Click here.";
    assert.ok(hit(await run(text(three)), "SPAM_PHRASES"), "income, guarantee, click here");
    const newsletter = "This week's reviews: the new handhelds. Click here for the full story, or start a free trial of our magazine.";
    const r = await run(text(newsletter));
    assert.equal(hit(r, "SPAM_PHRASES"), undefined);
    assert.equal(hit(r, "SPAM_PHRASES_MANY"), undefined);
  });

  test("Reply-To into the mailing list's own domain is no mismatch; into a third domain it still is", async () => {
    const listHeaders = ["List-Id: Hiking club <hiking.lists.club.test>", "List-Unsubscribe: <mailto:hiking-unsubscribe@groups.test>"];
    for (const replyTo of ["hiking@groups.test", "hiking@lists.club.test"]) {
      const r = await run(message({ replyTo, extraHeaders: listHeaders }));
      assert.equal(hit(r, "REPLYTO_DOMAIN_MISMATCH"), undefined, replyTo);
    }
    const diverted = await run(message({ replyTo: "payments@evil-collector.test", extraHeaders: listHeaders }));
    assert.match(hit(diverted, "REPLYTO_DOMAIN_MISMATCH")?.detail ?? "", /evil-collector\.test/);
    // a List-Id without a phrase ("<id>" alone) names the list's domain too
    const bare = await run(message({ replyTo: "hiking@lists.club.test", extraHeaders: ["List-Id: <hiking.lists.club.test>"] }));
    assert.equal(hit(bare, "REPLYTO_DOMAIN_MISMATCH"), undefined, "bare List-Id");
  });

  test("a link into the From address's own domain (its click tracking) is no URL_TEXT_MISMATCH", async () => {
    const tracked = message({
      from: "Shop news <news@mailer.sender.test>",
      mime: { contentType: "text/html", body: '<a href="https://click.sender.test/r?id=42">www.camera-maker.com</a>' },
    });
    assert.equal(hit(await run(tracked), "URL_TEXT_MISMATCH"), undefined);
    const elsewhere = message({
      from: "Shop news <news@mailer.sender.test>",
      mime: { contentType: "text/html", body: '<a href="https://click.tracker.test/r?id=42">www.camera-maker.com</a>' },
    });
    assert.equal(hit(await run(elsewhere), "URL_TEXT_MISMATCH")?.detail, "www.camera-maker.com -> click.tracker.test");
  });

  test("client on a DNSBL zone: RBL_LISTED; a client not listed: none", async () => {
    const listed = await run(message(), ip.listed);
    assert.match(hit(listed, "RBL_LISTED")?.detail ?? "", /bl\.test=127\.0\.0\.2/);
    assert.equal(hit(await run(message(), ip.sender), "RBL_LISTED"), undefined);
  });

  test("reverse DNS: none, not forward-confirmed, confirmed", async () => {
    assert.ok(hit(await run(message(), ip.noPtr), "RDNS_NONE"));
    assert.equal(hit(await run(message(), ip.unconfirmed), "RDNS_NOT_CONFIRMED")?.detail, "liar.test");
    const confirmed = await run(message(), ip.sender);
    assert.equal(hit(confirmed, "RDNS_NONE") ?? hit(confirmed, "RDNS_NOT_CONFIRMED"), undefined);
  });

  test("session symbols are scored (EARLY_TALKER) and unknown ones listed at 0", async () => {
    const r = await run(message(), ip.sender, ["EARLY_TALKER", "SOMETHING_NEW"]);
    assert.equal(hit(r, "EARLY_TALKER")?.score, 3);
    assert.equal(hit(r, "SOMETHING_NEW")?.score, 0);
  });

  test("a message over the content cap is parsed only up to it, and still authenticated in full", async () => {
    const small = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), maxContentBytes: 2048 });
    const raw = message({ date: null, mime: { contentType: "text/plain", body: "x".repeat(100_000) } });
    let opened = 0;
    const r = await small.classify({
      open: async () => {
        opened++;
        return streamOf(raw)();
      },
      size: raw.length,
      source: "inbound",
      client: { ip: ip.sender, helo: "mail.sender.test" },
      mailFrom: "alice@sender.test",
    });
    assert.equal(opened, 2);
    assert.ok(hit(r, "MISSING_DATE"));
    assert.match(r.authResults, /spf=pass/);
  });

  test("garbage input classifies without throwing", async () => {
    const raw = Buffer.from("\x00\x01garbage without headers\r\n\r\n\xff\xfe");
    const r = await run(raw, ip.noPtr);
    assert.ok(hit(r, "FROM_INVALID"));
    assert.ok(["deliver", "junk", "quarantine", "reject"].includes(r.action));
  });
});
