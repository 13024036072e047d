import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { dkimVerify } from "mailauth";
import { generateDkimKey, txtStrings, type DkimKeyInfo } from "@postline/dkim";
import { SmtpClient } from "@postline/testkit";
import { message, plain, queueIdOf, readBlob, session, startWorld, transaction, type World } from "./harness.ts";

/** A resolver in mailauth's shape serving the TXT records of the given keys, and nothing else. */
function resolverFor(keys: DkimKeyInfo[]) {
  const records = new Map(keys.map((k) => [k.dnsRecord.name.toLowerCase(), k.dnsRecord.value]));
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const value = rrtype === "TXT" ? records.get(name.toLowerCase().replace(/\.$/, "")) : undefined;
    if (value === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return [txtStrings(value)];
  };
}

let w: World;
before(async () => {
  w = await startWorld({ POSTLINE_AUTH_MAX_FAILURES_PER_IP: "1000" });
});
after(async () => {
  await w?.close();
});

describe("authentication", () => {
  test("587: no AUTH before STARTTLS, and no MAIL before AUTH", async () => {
    const c = await SmtpClient.connect(w.port);
    assert.equal((await c.read()).code, 220);
    const ehlo = await c.command("EHLO client.example.org");
    assert.ok(ehlo.lines.includes("STARTTLS"));
    assert.ok(!ehlo.lines.some((l) => l.startsWith("AUTH")), "AUTH is not offered in the clear");
    const auth = await c.command(`AUTH PLAIN ${plain("user@example.test")}`);
    assert.equal(auth.code, 538);
    assert.match(auth.raw, /^538 5\.7\.0 /);
    const mail = await c.command("MAIL FROM:<user@example.test>");
    assert.equal(mail.code, 530);
    assert.match(mail.raw, /^530 5\.7\.0 /);
    await c.quit();
  });

  test("after STARTTLS: AUTH PLAIN and LOGIN are offered; MAIL before AUTH is 530 5.7.0", async () => {
    const { c } = await session(w.port, null);
    const ehlo = await c.command("EHLO client.example.org");
    assert.ok(ehlo.lines.includes("AUTH PLAIN LOGIN"), ehlo.raw);
    const mail = await c.command("MAIL FROM:<user@example.test>");
    assert.match(mail.raw, /^530 5\.7\.0 /);
    await c.quit();
  });

  test("wrong password: 535 5.7.8; AUTH LOGIN with the right one: 235", async () => {
    const { c, auth } = await session(w.port, "user@example.test", "not the password at all");
    assert.match(auth!.raw, /^535 5\.7\.8 /);
    assert.equal((await c.command("AUTH LOGIN")).code, 334);
    assert.equal((await c.command(Buffer.from("user@example.test").toString("base64"))).code, 334);
    const ok = await c.command(Buffer.from("a long enough test password").toString("base64"));
    assert.equal(ok.code, 235, ok.raw);
    await c.quit();
  });

  test("465: implicit TLS, AUTH and a message", async () => {
    const c = await SmtpClient.connectTls(w.tlsPort);
    assert.equal((await c.read()).code, 220);
    assert.ok(c.tlsSocket.encrypted);
    const ehlo = await c.command("EHLO client.example.org");
    assert.ok(!ehlo.lines.includes("STARTTLS"));
    assert.equal((await c.command(`AUTH PLAIN ${plain("user@example.test")}`)).code, 235);
    const r = await transaction(c, { from: "user@example.test", to: ["friend@remote.example"], message: message("user@example.test") });
    assert.match(r.raw, /^250 2\.0\.0 queued as \S+$/);
    const e = await w.events.waitFor(queueIdOf(r.raw));
    assert.equal(e.client.tls, true);
    await c.quit();
  });

  test("throttling: after the account's failures, even the right password gets 454 4.7.0", async () => {
    for (let i = 0; i < 5; i++) {
      const { c, auth } = await session(w.port, "other@example.test", "wrong password number " + i);
      assert.equal(auth!.code, 535);
      await c.quit();
    }
    const { c, auth } = await session(w.port, "other@example.test");
    assert.match(auth!.raw, /^454 4\.7\.0 /);
    await c.quit();
    await w.t.db.query("DELETE FROM login_failures");
  });
});

describe("senders", () => {
  test("an envelope sender the account does not own: 553 5.7.1 at MAIL FROM", async () => {
    const { c } = await session(w.port);
    for (const from of ["other@example.test", "team@example.test", "someone@remote.example", ""]) {
      const r = await c.command(`MAIL FROM:<${from}>`);
      assert.match(r.raw, /^553 5\.7\.1 /, `${from}: ${r.raw}`);
    }
    await c.quit();
  });

  test("a From header the account does not own: 553 5.7.1 at the end of DATA, nothing published", async () => {
    const { c } = await session(w.port);
    const before = w.events.events.length;
    const r = await transaction(c, { from: "user@example.test", to: ["friend@remote.example"], message: message("other@example.test") });
    assert.match(r.raw, /^553 5\.7\.1 /);
    const none = await transaction(c, { from: "user@example.test", to: ["friend@remote.example"], message: "Subject: no from\r\n\r\nbody\r\n" });
    assert.match(none.raw, /^553 5\.7\.1 /);
    const two = await transaction(c, { from: "user@example.test", to: ["friend@remote.example"], message: "From: user@example.test, other@example.test\r\n\r\nbody\r\n" });
    assert.match(two.raw, /^553 5\.7\.1 /, "every From address must be owned");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(w.events.events.length, before);
    await c.quit();
  });

  test("an alias of the account is allowed as envelope sender and From (case-insensitive)", async () => {
    const { c } = await session(w.port);
    const r = await transaction(c, { from: "Sales@Example.TEST", to: ["friend@remote.example"], message: message("SALES@example.test") });
    assert.match(r.raw, /^250 2\.0\.0 queued as /);
    const e = await w.events.waitFor(queueIdOf(r.raw));
    assert.equal(e.client.authUser, "user@example.test");
    await c.quit();
  });
});

describe("the message", () => {
  test("Message-ID and Date are added, Bcc dropped; the blob is the event's, byte for byte", async () => {
    const { c } = await session(w.port);
    const original = "From: User <user@example.test>\r\nTo: friend@remote.example\r\nBcc: hidden@remote.example,\r\n other@remote.example\r\nSubject: hi\r\n\r\nBody line\r\n";
    const r = await transaction(c, { from: "user@example.test", to: ["friend@remote.example", "hidden@remote.example"], message: original });
    const id = queueIdOf(r.raw);
    const e = await w.events.waitFor(id);
    assert.deepEqual(e.envelope.rcptTo, ["friend@remote.example", "hidden@remote.example"]);
    assert.equal(e.envelope.mailFrom, "user@example.test");
    assert.equal(e.client.authUser, "user@example.test");
    const stored = await readBlob(w.blobs, e.blob.key);
    assert.equal(stored.length, e.blob.size);
    assert.equal(createHash("sha256").update(stored).digest("hex"), e.blob.sha256);
    const text = stored.toString("latin1");
    const [header, body] = text.split("\r\n\r\n") as [string, string];
    assert.doesNotMatch(header, /^bcc:/im);
    assert.doesNotMatch(text, /hidden@|other@remote/);
    assert.match(header, new RegExp(`^Message-ID: <${id}@submit\\.example\\.test>$`, "m"));
    const date = /^Date: (.+)$/m.exec(header)![1]!;
    assert.ok(Math.abs(Date.parse(date) - Date.now()) < 60_000, date);
    assert.match(header, /^From: User <user@example\.test>\r\nTo: friend@remote\.example\r\nSubject: hi\r\n/m);
    assert.equal(body, "Body line\r\n");
    await c.quit();
  });

  test("a message with its own Message-ID and Date keeps them", async () => {
    const { c } = await session(w.port);
    const original = message("user@example.test", "Message-ID: <mine@client>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n");
    const r = await transaction(c, { from: "user@example.test", to: ["friend@remote.example"], message: original });
    const e = await w.events.waitFor(queueIdOf(r.raw));
    const stored = (await readBlob(w.blobs, e.blob.key)).toString("latin1");
    assert.equal(stored, original);
    await c.quit();
  });

  test("DKIM: the From domain's keys sign the message; a domain without keys sends unsigned", async () => {
    const keys = await generateDkimKey(w.t.db, "signed.test", { algorithm: "both" });
    const { c } = await session(w.port, "writer@signed.test");
    const r = await transaction(c, { from: "writer@signed.test", to: ["friend@remote.example"], message: message("writer@signed.test") });
    const stored = (await readBlob(w.blobs, (await w.events.waitFor(queueIdOf(r.raw))).blob.key)).toString("latin1");
    const sigs = stored.match(/^DKIM-Signature:.*(?:\r\n[ \t].*)*/gim) ?? [];
    assert.equal(sigs.length, 2, stored);
    for (const s of sigs) assert.match(s.replace(/\s+/g, ""), /d=signed\.test;/);
    const verified = await dkimVerify(Buffer.from(stored, "latin1"), { resolver: resolverFor(keys) } as Parameters<typeof dkimVerify>[1]);
    assert.deepEqual(
      verified.results.map((x: { status: { result: string } }) => x.status.result),
      ["pass", "pass"],
      "both signatures verify against the published keys",
    );
    await c.quit();

    const u = await session(w.port);
    const r2 = await transaction(u.c, { from: "user@example.test", to: ["friend@remote.example"], message: message("user@example.test") });
    const stored2 = (await readBlob(w.blobs, (await w.events.waitFor(queueIdOf(r2.raw))).blob.key)).toString("latin1");
    assert.doesNotMatch(stored2, /^DKIM-Signature:/im);
    await u.c.quit();
  });

  test("swaks with --tls and --auth PLAIN", async () => {
    const { stdout } = await promisify(execFile)("swaks", [
      "--server", "127.0.0.1", "--port", String(w.port), "--tls", "--auth", "PLAIN",
      "--auth-user", "user@example.test", "--auth-password", "a long enough test password",
      "--from", "user@example.test", "--to", "friend@remote.example", "--h-From", "user@example.test",
      "--header", "Subject: from swaks", "--body", "sent by swaks", "--helo", "swaks.example.org",
    ]);
    const m = /<~ {2}250 2\.0\.0 queued as (\S+)/.exec(stdout);
    assert.ok(m, stdout);
    const e = await w.events.waitFor(m[1]!);
    assert.equal(e.client.authUser, "user@example.test");
    assert.equal(e.client.helo, "swaks.example.org");
    assert.match((await readBlob(w.blobs, e.blob.key)).toString("latin1"), /Subject: from swaks/);
  });
});
