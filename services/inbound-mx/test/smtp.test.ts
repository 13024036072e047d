import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { buffer } from "node:stream/consumers";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { SmtpClient, message, sendMail } from "./smtp-client.ts";
import { EventCollector, countBlobs, localAdapters, publishedCount, seedDirectory, startMx, type LocalAdapters, type Mx } from "./harness.ts";

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

let t: TestDatabase;
let adapters: LocalAdapters;
let mx: Mx;
const events = new EventCollector();

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  adapters = await localAdapters(t.db);
  await events.start(adapters.bus);
  mx = await startMx(
    { db: t.db, bus: adapters.bus, blobs: adapters.blobs },
    { POSTLINE_MX_MAX_SIZE: "100000", POSTLINE_MX_MAX_RECIPIENTS: "3", POSTLINE_MX_MAX_COMMANDS: "40", POSTLINE_MX_MAX_LINE_LENGTH: "1000" },
  );
});
after(async () => {
  await mx?.stop();
  await events.stop();
  await adapters?.close();
  await t?.drop();
});

const connect = (localAddress?: string) => SmtpClient.connect(mx.port, { localAddress });

async function greeted(localAddress?: string): Promise<SmtpClient> {
  const c = await connect(localAddress);
  const g = await c.read();
  assert.equal(g.code, 220, g.raw);
  return c;
}

function queueId(text: string): string {
  const id = /queued as (\S+)/.exec(text)?.[1];
  assert.ok(id && ULID.test(id), text);
  return id;
}

/** Blob and event counts stay as they are across `fn` (given time for a stray publish to show up). */
async function assertNothingStored(fn: () => Promise<void>): Promise<void> {
  const blobsBefore = await countBlobs(adapters.blobsDir);
  const publishedBefore = await publishedCount(t.db);
  await fn();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await countBlobs(adapters.blobsDir), blobsBefore, "no blob stored");
  assert.equal(await publishedCount(t.db), publishedBefore, "nothing published");
}

describe("greeting and EHLO", () => {
  test("greets with the host name and advertises the MX's extensions, without AUTH or CHUNKING", async () => {
    const c = await connect();
    const greeting = await c.read();
    assert.equal(greeting.code, 220);
    assert.match(greeting.raw, /^220 mx\.example\.test ESMTP/);
    const ehlo = await c.command("EHLO client.example.org");
    assert.equal(ehlo.code, 250);
    const caps = ehlo.lines.slice(1);
    for (const cap of ["PIPELINING", "8BITMIME", "SMTPUTF8", "ENHANCEDSTATUSCODES", "DSN", "STARTTLS", "SIZE 100000"]) assert.ok(caps.includes(cap), `${cap} in ${caps.join(",")}`);
    assert.ok(!caps.some((x) => x.startsWith("AUTH")), "no AUTH on the MX");
    assert.equal((await c.command("AUTH PLAIN AGJvYgBzZWNyZXQ=")).code, 500);
    await c.quit();
  });
});

describe("accepting mail", () => {
  test("250 with the queue id only after the blob is stored and mail.received published; stored bytes are the Received header and the exact message", async () => {
    const c = await greeted();
    const body = message("first", "Line one.\r\n.leading dot line\r\nLast line.\r\n");
    const reply = await sendMail(c, { from: "sender@example.org", to: ["user@example.test"], message: body });
    await c.quit();
    assert.equal(reply.code, 250, reply.raw);
    assert.match(reply.raw, /^250 2\.0\.0 Ok: queued as /);
    const id = queueId(reply.raw);

    const e = await events.waitFor(id);
    assert.equal(e.v, 1);
    assert.equal(e.envelope.mailFrom, "sender@example.org");
    assert.deepEqual(e.envelope.rcptTo, ["user@example.test"]);
    assert.equal(e.envelope.smtpUtf8, false);
    assert.equal(e.envelope.body, "7BIT");
    assert.deepEqual(e.client, { ip: "127.0.0.1", helo: "client.example.org", tls: false });
    assert.deepEqual(e.sessionSymbols, []);
    assert.ok(Date.now() - Date.parse(e.receivedAt) < 60_000);

    const stored = await buffer(await adapters.blobs.get(e.blob.key));
    assert.equal(e.blob.size, stored.length);
    assert.equal(e.blob.sha256, createHash("sha256").update(stored).digest("hex"));
    const text = stored.toString("utf8");
    const headerEnd = text.indexOf("\r\nFrom: ");
    const received = text.slice(0, headerEnd + 2);
    assert.match(received, /^Received: from client\.example\.org \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx\.example\.test \(Postline\) with ESMTP id [0-9A-Z]{26}\r\n\tfor <user@example\.test>; \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/);
    assert.ok(received.includes(`id ${id}`));
    assert.equal(text.slice(headerEnd + 2), body, "the message as sent, dot-unstuffed");
  });

  test("several messages in one session, then RSET and NOOP", async () => {
    const c = await greeted();
    const first = await sendMail(c, { from: "a@example.org", to: ["user@example.test"], message: message("one") });
    assert.equal(first.code, 250, first.raw);
    assert.equal((await c.command("MAIL FROM:<b@example.org>")).code, 250);
    assert.equal((await c.command("RCPT TO:<other@example.test>")).code, 250);
    assert.equal((await c.command("DATA")).code, 354);
    const second = await c.data(message("two"));
    assert.equal(second.code, 250, second.raw);
    assert.notEqual(queueId(first.raw), queueId(second.raw));
    assert.equal((await c.command("RSET")).code, 250);
    assert.equal((await c.command("NOOP")).code, 250);
    await c.quit();
    const e = await events.waitFor(queueId(second.raw));
    assert.deepEqual(e.envelope.rcptTo, ["other@example.test"]);
  });

  test("null sender (a bounce) is accepted with mailFrom \"\"", async () => {
    const c = await greeted();
    const reply = await sendMail(c, { from: "", to: ["user@example.test"], message: message("bounce") });
    await c.quit();
    assert.equal(reply.code, 250, reply.raw);
    assert.equal((await events.waitFor(queueId(reply.raw))).envelope.mailFrom, "");
  });
});

describe("RCPT checks", () => {
  test("each refusal has its code: unknown user, relay, over quota, disabled, too many recipients", async () => {
    const c = await greeted();
    assert.equal((await c.command("EHLO client.example.org")).code, 250);
    assert.equal((await c.command("MAIL FROM:<sender@example.org>")).code, 250);
    const expect = async (rcpt: string, code: number, enhanced: string) => {
      const r = await c.command(`RCPT TO:<${rcpt}>`);
      assert.equal(r.code, code, `${rcpt}: ${r.raw}`);
      assert.ok(r.raw.startsWith(`${code} ${enhanced} `), `${rcpt}: ${r.raw}`);
    };
    await expect("nobody@example.test", 550, "5.1.1");
    await expect("someone@elsewhere.example", 554, "5.7.1");
    await expect("full@example.test", 452, "4.2.2");
    await expect("off@example.test", 550, "5.2.1");
    await expect("user@example.test", 250, "2.1.5");
    await expect("user+tag@example.test", 250, "2.1.5");
    await expect("team@example.test", 250, "2.1.5");
    await expect("other@example.test", 452, "4.5.3"); // the fourth: over POSTLINE_MX_MAX_RECIPIENTS=3
    assert.equal((await c.command("DATA")).code, 354);
    const reply = await c.data(message("three recipients"));
    assert.equal(reply.code, 250, reply.raw);
    await c.quit();
    const e = await events.waitFor(queueId(reply.raw));
    assert.deepEqual(e.envelope.rcptTo, ["user@example.test", "user+tag@example.test", "team@example.test"]);
  });

  test("RCPT before MAIL and DATA without RCPT are sequence errors", async () => {
    const c = await greeted();
    assert.equal((await c.command("MAIL FROM:<a@example.org>")).code, 503, "MAIL before EHLO");
    await c.command("EHLO client.example.org");
    const rcpt = await c.command("RCPT TO:<user@example.test>");
    assert.equal(rcpt.code, 503);
    assert.equal((await c.command("MAIL FROM:<a@example.org>")).code, 250);
    const data = await c.command("DATA");
    assert.equal(data.code, 503);
    assert.match(data.raw, /^503 5\.5\.1 /);
    await c.quit();
  });
});

describe("size limit", () => {
  test("MAIL FROM SIZE= over the limit: 552 5.3.4; within it: 250", async () => {
    const c = await greeted();
    await c.command("EHLO client.example.org");
    const over = await c.command("MAIL FROM:<a@example.org> SIZE=100001");
    assert.equal(over.code, 552);
    assert.match(over.raw, /^552 5\.3\.4 /);
    assert.equal((await c.command("MAIL FROM:<a@example.org> SIZE=99000")).code, 250);
    await c.quit();
  });

  test("a message growing past the limit while streaming: 552 5.3.4, nothing stored or published, the session goes on", async () => {
    const c = await greeted();
    await assertNothingStored(async () => {
      const big = message("big", `${"x".repeat(998)}\r\n`.repeat(120)); // ~120 kB > 100000
      const reply = await sendMail(c, { from: "a@example.org", to: ["user@example.test"], message: big });
      assert.equal(reply.code, 552, reply.raw);
      assert.match(reply.raw, /^552 5\.3\.4 /);
    });
    const after = await sendMail(c, { from: "a@example.org", to: ["user@example.test"], message: message("small after big") });
    assert.equal(after.code, 250, after.raw);
    await c.quit();
  });
});

describe("ESMTP extensions", () => {
  test("PIPELINING: MAIL, RCPTs and DATA in one write get their replies in order", async () => {
    const c = await greeted();
    await c.command("EHLO client.example.org");
    c.write("MAIL FROM:<p@example.org>\r\nRCPT TO:<user@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<other@example.test>\r\nDATA\r\n");
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await c.read()).code);
    assert.deepEqual(codes, [250, 250, 550, 250, 354]);
    const reply = await c.data(message("pipelined"));
    assert.equal(reply.code, 250, reply.raw);
    await c.quit();
    assert.deepEqual((await events.waitFor(queueId(reply.raw))).envelope.rcptTo, ["user@example.test", "other@example.test"]);
  });

  test("a whole pipelined transaction in one write, message included", async () => {
    const c = await greeted();
    await c.command("EHLO client.example.org");
    const body = message("all at once").replace(/\r\n/g, "\r\n");
    c.write(`MAIL FROM:<p@example.org>\r\nRCPT TO:<user@example.test>\r\nDATA\r\n${body}.\r\nQUIT\r\n`);
    const codes = [];
    let last = "";
    for (let i = 0; i < 5; i++) {
      const r = await c.read();
      codes.push(r.code);
      if (r.code === 250 && r.raw.includes("queued")) last = r.raw;
    }
    assert.deepEqual(codes, [250, 250, 354, 250, 221]);
    await events.waitFor(queueId(last));
  });

  test("DSN: RET, ENVID, NOTIFY and ORCPT arrive in the event", async () => {
    const c = await greeted();
    await c.command("EHLO client.example.org");
    assert.equal((await c.command("MAIL FROM:<d@example.org> RET=HDRS ENVID=QQ314159+2Bx")).code, 250);
    assert.equal((await c.command("RCPT TO:<user@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;user@example.test")).code, 250);
    assert.equal((await c.command("RCPT TO:<other@example.test> NOTIFY=NEVER")).code, 250);
    assert.equal((await c.command("RCPT TO:<team@example.test>")).code, 250);
    assert.equal((await c.command("DATA")).code, 354);
    const reply = await c.data(message("dsn"));
    assert.equal(reply.code, 250, reply.raw);
    const bad = await c.command("MAIL FROM:<d@example.org> RET=SOMETIMES");
    assert.equal(bad.code, 501);
    await c.quit();
    const e = await events.waitFor(queueId(reply.raw));
    assert.deepEqual(e.envelope.dsn, {
      ret: "HDRS",
      envid: "QQ314159+x",
      rcpt: {
        "user@example.test": { notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;user@example.test" },
        "other@example.test": { notify: ["NEVER"] },
      },
    });
  });

  test("SMTPUTF8 and 8BITMIME: UTF-8 addresses and an 8-bit body, stored byte for byte", async () => {
    const c = await greeted();
    const body = "From: Jösé <sénder@exämple.org>\r\nTo: jösé@example.test\r\nSubject: Grüße\r\n\r\nÜberraschung: ½ € ✓\r\n";
    const reply = await sendMail(c, { from: "sénder@exämple.org", to: ["jösé@example.test"], mailParams: "SMTPUTF8 BODY=8BITMIME", message: Buffer.from(body, "utf8") });
    assert.equal(reply.code, 250, reply.raw);
    await c.quit();
    const e = await events.waitFor(queueId(reply.raw));
    assert.equal(e.envelope.smtpUtf8, true);
    assert.equal(e.envelope.body, "8BITMIME");
    assert.equal(e.envelope.mailFrom, "sénder@exämple.org");
    assert.deepEqual(e.envelope.rcptTo, ["jösé@example.test"]);
    const stored = (await buffer(await adapters.blobs.get(e.blob.key))).toString("utf8");
    assert.ok(stored.endsWith(body), "body bytes unchanged");
    assert.match(stored, /with UTF8SMTP id .*\r\n\tfor <jösé@example\.test>; /);
  });

  test("an IDN domain is local in its A-label and U-label forms", async () => {
    const c = await greeted();
    await c.command("EHLO client.example.org");
    await c.command("MAIL FROM:<a@example.org> SMTPUTF8");
    assert.equal((await c.command("RCPT TO:<leser@xn--bcher-kva.test>")).code, 250);
    assert.equal((await c.command("RCPT TO:<leser@bücher.test>")).code, 250);
    assert.equal((await c.command("RCPT TO:<niemand@bücher.test>")).code, 550);
    await c.quit();
  });
});

describe("bad input", () => {
  test("garbage and unknown commands get 500 5.5.2, the session survives; ten of them end it with 421", async () => {
    const c = await greeted();
    const junk = await c.command("\x01\x02\xff\xfe garbage");
    assert.equal(junk.code, 500);
    assert.match(junk.raw, /^500 5\.5\.2 /);
    assert.equal((await c.command("EHLO client.example.org")).code, 250);
    assert.equal((await c.command("HELO")).code, 501);
    assert.equal((await c.command("MAIL FROM:not-an-address")).code, 501);
    const ok = await sendMail(c, { from: "a@example.org", to: ["user@example.test"], message: message("after garbage") });
    assert.equal(ok.code, 250, ok.raw);
    for (let i = 0; i < 9; i++) assert.equal((await c.command(`FOO${i}`)).code, 500);
    assert.equal((await c.command("FOO9")).code, 421);
    await c.closed;
  });

  test("an HTTP request is refused with 421", async () => {
    const c = await greeted();
    assert.equal((await c.command("GET / HTTP/1.1")).code, 421);
    await c.closed;
  });

  test("an overlong command line: 500 5.5.2 line too long, the connection is closed, nothing stored", async () => {
    await assertNothingStored(async () => {
      const c = await greeted();
      await c.command("EHLO client.example.org");
      await c.command("MAIL FROM:<a@example.org>");
      const r = await c.command(`RCPT TO:<${"a".repeat(1200)}@example.test>`);
      assert.equal(r.code, 500);
      assert.match(r.raw, /^500 5\.5\.2 .*line too long/i);
      await c.closed;
    });
    // and the server is fine
    const c = await greeted();
    assert.equal((await c.command("EHLO client.example.org")).code, 250);
    await c.quit();
  });

  test("a client that disconnects mid-DATA: nothing stored, nothing published, no crash", async () => {
    await assertNothingStored(async () => {
      const c = await greeted();
      await c.command("EHLO client.example.org");
      await c.command("MAIL FROM:<a@example.org>");
      await c.command("RCPT TO:<user@example.test>");
      assert.equal((await c.command("DATA")).code, 354);
      c.write(`${message("cut off")}${"more text\r\n".repeat(5000)}`);
      await new Promise((r) => setTimeout(r, 100));
      c.destroy();
      await c.closed;
    });
    const c = await greeted();
    const ok = await sendMail(c, { from: "a@example.org", to: ["user@example.test"], message: message("after a cut") });
    assert.equal(ok.code, 250, ok.raw);
    await c.quit();
  });

  test("too many commands in one session: 421 4.7.0 and the connection is closed", async () => {
    const c = await greeted();
    let last;
    for (let i = 0; i < 45; i++) {
      last = await c.command("NOOP");
      if (last.code !== 250) break;
    }
    assert.equal(last!.code, 421);
    assert.match(last!.raw, /^421 4\.7\.0 /);
    await c.closed;
  });
});

describe("STARTTLS", () => {
  test("upgrade, EHLO again (no STARTTLS offered any more), mail: the event and Received header say TLS", async () => {
    const c = await greeted();
    const ehlo = await c.command("EHLO client.example.org");
    assert.ok(ehlo.lines.includes("STARTTLS"));
    const ready = await c.command("STARTTLS");
    assert.equal(ready.code, 220);
    const tls = await c.startTls("mx.example.test");
    assert.ok(tls.encrypted);
    const again = await c.command("EHLO client.example.org");
    assert.equal(again.code, 250);
    assert.ok(!again.lines.includes("STARTTLS"));
    assert.equal((await c.command("MAIL FROM:<tls@example.org>")).code, 250);
    assert.equal((await c.command("RCPT TO:<user@example.test>")).code, 250);
    assert.equal((await c.command("DATA")).code, 354);
    const reply = await c.data(message("over tls"));
    assert.equal(reply.code, 250, reply.raw);
    await c.quit();
    const e = await events.waitFor(queueId(reply.raw));
    assert.equal(e.client.tls, true);
    const stored = (await buffer(await adapters.blobs.get(e.blob.key))).toString("utf8");
    assert.match(stored, /^Received: from client\.example\.org [^\n]*\n\tby mx\.example\.test \(Postline\) with ESMTPS id \w+\r\n\t\(using TLSv1\.[23] with cipher [\w-]+\)\r\n/);
  });

  test("swaks with STARTTLS delivers", async () => {
    const { execFile } = await import("node:child_process");
    const out = await new Promise<string>((resolve, reject) =>
      execFile("swaks", ["--server", `127.0.0.1:${mx.port}`, "--from", "swaks@example.org", "--to", "user@example.test", "--tls", "--helo", "swaks.example.org", "--header", "Subject: via swaks"], { timeout: 30_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      ),
    );
    const id = /<~\s+250 2\.0\.0 Ok: queued as (\w+)/.exec(out)?.[1];
    assert.ok(id, out);
    const e = await events.waitFor(id);
    assert.equal(e.client.tls, true);
    assert.equal(e.client.helo, "swaks.example.org");
  });
});

describe("metrics", () => {
  test("sessions, commands, replies by code, messages and bytes are counted", async () => {
    const metrics = await mx.registry.metrics();
    assert.match(metrics, /postline_inbound_mx_sessions_total\{result="accepted"\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_commands_total\{command="MAIL"\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_replies_total\{code="550"\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_messages_total\{result="accepted",reason=""\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_messages_total\{result="rejected",reason="too_large"\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_recipients_total\{result="relay_denied"\} [1-9]/);
    assert.match(metrics, /postline_inbound_mx_received_bytes_total [1-9]/);
  });
});
