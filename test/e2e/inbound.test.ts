import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { simpleMessage, smtpTransaction, startPostfix } from "@postline/testkit";
import { readStored, startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// Inbound mail end to end: inbound-mx, spam-filter and delivery each their own process in cluster
// mode on the real Kafka, PostgreSQL and MinIO, fed by real senders (swaks, Postfix).
const run = promisify(execFile);
let install: Installation;

before(async () => {
  install = await startInstallation();
});
after(async () => {
  await install?.stop();
});

async function inMailbox(mailId: string, count = 1) {
  return waitFor(`message ${mailId} in a mailbox`, async () => {
    const rows = (await storedMessages(install)).filter((m) => m.mail_id === mailId);
    return rows.length >= count ? rows : undefined;
  });
}

test("swaks → inbound-mx → spam-filter → delivery: in alice's INBOX with the authentication headers, bytes intact", async () => {
  const body = "Line one.\r\nA line with trailing dots..\r\n.leading dot\r\n";
  const { stdout } = await run("swaks", [
    "--server", `127.0.0.1:${install.mxPort}`,
    "--helo", "sender.good.test",
    "--from", "carol@good.test",
    "--to", "alice@example.test",
    "--header", "Subject: Hello from swaks",
    "--body", body,
  ]);
  const queueId = /queued as (\S+)/.exec(stdout)?.[1];
  assert.ok(queueId, stdout);
  const [stored] = await inMailbox(queueId);
  assert.equal(stored!.address, "alice@example.test");
  assert.equal(stored!.mailbox, "INBOX");
  const bytes = await readStored(install.blobs, stored!);
  assert.equal(bytes.length, stored!.size, "the size IMAP reports is the stored blob's size");
  const text = bytes.toString("utf8");
  const [header] = text.split("\r\n\r\n", 1);
  assert.match(header!, /^Authentication-Results: mx\.example\.test;/m);
  assert.match(header!, /spf=pass/);
  assert.match(header!, /^Subject: Hello from swaks$/m);
  const received = text.slice(text.indexOf("\r\n\r\n") + 4);
  // swaks ends every body with a blank line of its own.
  assert.equal(received, `${body}\r\n\r\n`, "the body arrives byte for byte, dot-stuffing undone");
});

test("Postfix relaying to our MX: the message lands in bob's INBOX", async () => {
  const postfix = await startPostfix({ relayhost: `[127.0.0.1]:${install.mxPort}`, relayDomains: ["example.test"] });
  try {
    const message = simpleMessage({ from: "carol@good.test", to: "bob@example.test", subject: "Relayed by Postfix" });
    const t = await smtpTransaction(postfix.port, { from: "carol@good.test", to: ["bob@example.test"], data: message });
    assert.equal(t.final.code, 250, t.final.text);
    await postfix.waitForEmptyQueue();
    const relayed = /status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)/.exec(postfix.maillog())?.[1];
    assert.ok(relayed, postfix.maillog());
    const [stored] = await inMailbox(relayed);
    assert.equal(stored!.address, "bob@example.test");
    assert.equal(stored!.mailbox, "INBOX");
    const text = (await readStored(install.blobs, stored!)).toString("utf8");
    assert.match(text, /^Received: from relay\.postline-test\.invalid/m, "Postfix's trace header is kept");
    assert.match(text, /^Subject: Relayed by Postfix$/m);
  } finally {
    await postfix.stop();
  }
});

test("an alias to two accounts delivers one copy to each, stored once", async () => {
  const t = await smtpTransaction(install.mxPort, {
    from: "carol@good.test",
    to: ["team@example.test"],
    helo: "sender.good.test",
    data: simpleMessage({ from: "carol@good.test", to: "team@example.test", subject: "To the team" }),
  });
  assert.equal(t.final.code, 250, t.final.text);
  const rows = await inMailbox(t.queueId!, 2);
  assert.deepEqual(rows.map((r) => r.address).sort(), ["alice@example.test", "bob@example.test"]);
  assert.equal(new Set(rows.map((r) => r.blob_hash)).size, 1);
});

test("spam lands in Junk", async () => {
  const spammy = simpleMessage({
    from: "WINNER <prize@soft.test>",
    to: "alice@example.test",
    subject: "YOU HAVE WON A FREE PRIZE CLAIM NOW",
    headers: { "Reply-To": "claims@elsewhere.invalid", "Content-Type": "text/html; charset=utf-8" },
    body: '<html><body><a href="http://phish.invalid/login">https://www.yourbank.example/</a> CLICK NOW</body></html>\r\n',
  }).replace(/^Date: .*\r\n/m, "").replace(/^Message-ID: .*\r\n/m, "");
  const t = await smtpTransaction(install.mxPort, { from: "prize@soft.test", to: ["alice@example.test"], data: spammy });
  assert.equal(t.final.code, 250, t.final.text);
  const [stored] = await inMailbox(t.queueId!);
  assert.equal(stored!.mailbox, "Junk");
});

test("every refusal has its code: unknown user, relaying, SPF fail with DMARC p=reject", async () => {
  const send = (from: string, to: string) => smtpTransaction(install.mxPort, { from, to: [to], data: simpleMessage({ from, to, subject: "x" }) });
  const unknown = await send("carol@good.test", "nobody@example.test");
  assert.equal(unknown.final.code, 550);
  assert.match(unknown.final.text, /^5\.1\.1/);
  const relay = await send("carol@good.test", "someone@elsewhere.invalid");
  assert.equal(relay.final.code, 554);
  assert.match(relay.final.text, /^5\.7\.1/);
  const forged = await send("ceo@forged.test", "alice@example.test");
  assert.equal(forged.final.code, 550);
  assert.match(forged.final.text, /^5\.7\.1/);
  const before = (await storedMessages(install)).length;
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await storedMessages(install)).length, before, "nothing refused was delivered");
});
