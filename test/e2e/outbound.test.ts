import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { dkimVerify } from "mailauth";
import { freeSharedPort, simpleMessage, startPostfix, startSmtpSink, type PostfixInstance, type SmtpSink } from "@postline/testkit";
import { HOSTNAME, SENDER_DOMAIN, entity, parts, startOutbound, waitFor, type DeliveryRow, type OutboundWorld } from "./support/outbound.ts";

// Remote delivery end to end: a local user submits (submission → spam-filter → delivery, each its
// own process on the real Kafka, PostgreSQL and MinIO); delivery finds the receivers through the
// test DNS server's MX records: a real Postfix (delivering into a Maildir) and Postfix's smtp-sink
// answering 4xx, then 2xx (retry), or 5xx (bounce: a DSN into the sender's INBOX).

const POSTFIX = { domain: "postfix.test", host: "mx.postfix.test", address: "127.0.0.2" };
const RETRY = { domain: "retry.test", host: "mx.retry.test", address: "127.0.0.3" };
const BOUNCE = { domain: "bounce.test", host: "mx.bounce.test", address: "127.0.0.4" };
const ALICE = `alice@${SENDER_DOMAIN}`;

let world: OutboundWorld;
let postfix: PostfixInstance;
let retrySink: SmtpSink;
let bounceSink: SmtpSink;

before(async () => {
  const port = await freeSharedPort([POSTFIX.address, RETRY.address, BOUNCE.address]);
  postfix = await startPostfix({ address: POSTFIX.address, port, mailboxDomains: [POSTFIX.domain] });
  retrySink = await startSmtpSink({ address: RETRY.address, port, hostname: RETRY.host, softReject: ["RCPT"], softReply: "451 4.7.1 Greylisted, please try again later" });
  bounceSink = await startSmtpSink({ address: BOUNCE.address, port, hostname: BOUNCE.host, hardReject: ["RCPT"], hardReply: "550 5.1.1 Recipient address rejected: User unknown here" });
  world = await startOutbound({
    smtpPort: port,
    destinations: Object.fromEntries([POSTFIX, RETRY, BOUNCE].map((d) => [d.domain, { host: d.host, address: d.address }])),
  });
});

after(async () => {
  await world?.stop();
  await postfix?.stop();
  await retrySink?.stop();
  await bounceSink?.stop();
});

async function submit(to: string, subject: string, body = "Hello from Postline.\r\n"): Promise<{ id: string; messageId: string }> {
  const messageId = `<${subject.replace(/\W+/g, "-").toLowerCase()}-${Date.now()}@${SENDER_DOMAIN}>`;
  const s = await world.submissionSession();
  try {
    const id = await s.send(ALICE, [to], simpleMessage({ from: `Alice <${ALICE}>`, to, subject, body, headers: { "Message-ID": messageId } }));
    return { id, messageId };
  } finally {
    await s.quit();
  }
}

async function row(mailId: string, recipient: string): Promise<DeliveryRow | undefined> {
  return (await world.deliveries("mail_id = $1 AND recipient = $2", [mailId, recipient]))[0];
}

function rowWith(mailId: string, recipient: string, ok: (r: DeliveryRow) => boolean) {
  return async () => {
    const r = await row(mailId, recipient);
    return r && ok(r) ? r : undefined;
  };
}

const explain = (mailId: string) => async () => `deliveries: ${JSON.stringify(await world.deliveries("mail_id = $1", [mailId]))}\n${world.deliveryLogs()}`;

test("to a real Postfix: delivered through the MX, and both DKIM signatures verify at the receiver", async () => {
  const { id, messageId } = await submit(`someone@${POSTFIX.domain}`, "DKIM to Postfix", "Signed on the way out.\r\nSecond line.\r\n");
  const delivered = await waitFor("the Postfix recipient delivered", rowWith(id, `someone@${POSTFIX.domain}`, (r) => r.status === "delivered"), 60_000, explain(id));
  assert.equal(delivered.domain, POSTFIX.domain);
  assert.match(delivered.remote_reply ?? "", /^250 .*queued as [0-9A-F]+/, "the remote's reply is recorded");
  assert.match(delivered.remote_host ?? "", new RegExp(POSTFIX.host.replace(/\./g, "\\.")));
  const stored = await waitFor("the message in Postfix's Maildir", async () => postfix.mailbox().map((b) => b.toString("latin1")).find((m) => m.includes(messageId)), 30_000, () => postfix.maillog().slice(-3000));
  const received = stored.replace(/\r?\n/g, "\r\n");
  const head = entity(received);
  assert.equal(head.header("return-path"), `<${ALICE}>`, "the envelope sender is the submitter");
  assert.match(head.header("received") ?? "", /by relay\.postline-test\.invalid \(Postfix\)/);
  assert.match(received, new RegExp(`^Received: from ${HOSTNAME.replace(/\./g, "\\.")} `, "m"), "we said EHLO with POSTLINE_HOSTNAME");
  assert.match(head.body, /^Signed on the way out\.\r\nSecond line\.\r\n/);
  const result = await dkimVerify(Buffer.from(received, "latin1"), { resolver: world.resolver() } as Parameters<typeof dkimVerify>[1]);
  const outcomes = result.results.map((r: { signingDomain?: string; status: { result: string }; algo?: string }) => `${r.signingDomain} ${r.algo} ${r.status.result}`).sort();
  assert.deepEqual(outcomes, [`${SENDER_DOMAIN} ed25519-sha256 pass`, `${SENDER_DOMAIN} rsa-sha256 pass`], "both signatures verify with the keys in the test DNS");
});

test("4xx first, 2xx later: deferred with the remote's 4xx, then delivered on a retry", async () => {
  const rcpt = `someone@${RETRY.domain}`;
  const { id, messageId } = await submit(rcpt, "Greylisted first");
  const deferred = await waitFor("the recipient deferred", rowWith(id, rcpt, (r) => r.status === "deferred" && r.attempts >= 1), 60_000, explain(id));
  assert.match(deferred.last_error ?? "", /451 4\.7\.1 Greylisted/, "last_error holds the remote's temporary reply");
  assert.ok(deferred.next_attempt_at, "a deferred recipient has its next attempt");
  assert.equal(retrySink.messages().length, 0, "nothing was accepted while the receiver answered 4xx");
  await retrySink.reconfigure({ hostname: RETRY.host });
  const delivered = await waitFor("the recipient delivered on a retry", rowWith(id, rcpt, (r) => r.status === "delivered"), 60_000, explain(id));
  assert.ok(delivered.attempts >= 2, `attempts: ${delivered.attempts}`);
  assert.match(delivered.remote_reply ?? "", /^250 /);
  const got = retrySink.messages().filter((m) => m.message.includes(messageId));
  assert.equal(got.length, 1, "exactly one copy arrived");
  assert.equal(got[0]!.mailFrom, ALICE);
  assert.deepEqual(got[0]!.rcptTo, [rcpt]);
});

/** Waits for the DSN about `mailId` in alice's INBOX and checks it is a correct RFC 3464 failure report. */
async function bounceReport(mailId: string, rcpt: string, original: { messageId: string; subject: string }, diagnostic: RegExp): Promise<void> {
  const bounced = await waitFor("the recipient bounced", rowWith(mailId, rcpt, (r) => r.status === "bounced"), 60_000, explain(mailId));
  assert.match(bounced.last_error ?? "", diagnostic, "last_error holds the remote's permanent reply");
  const dsn = await waitFor(
    "the DSN in the sender's INBOX",
    async () => (await world.mailboxOf(ALICE)).find((m) => m.raw.includes(original.messageId) && /multipart\/report/i.test(m.raw)),
    60_000,
    explain(mailId),
  );
  assert.equal(dsn.mailbox, "INBOX");
  const dsnRow = await row(mailId, rcpt);
  assert.equal(dsnRow!.dsn_mail_id, dsn.mail_id, "the bounced recipient records the mail id of its DSN");
  // the DSN's own delivery row is recorded after its append is visible
  const dsnDelivery = await waitFor("the DSN's delivery row", async () => (await world.deliveries("mail_id = $1", [dsn.mail_id]))[0], 30_000, explain(dsn.mail_id));
  assert.equal(dsnDelivery.sender, "", "the DSN travels with the null sender");
  const top = entity(dsn.raw);
  assert.match(top.header("from") ?? "", new RegExp(`MAILER-DAEMON@${HOSTNAME.replace(/\./g, "\\.")}`, "i"));
  assert.match(top.header("to") ?? "", new RegExp(ALICE.replace(/\./g, "\\.")));
  assert.match(top.header("auto-submitted") ?? "", /^auto-replied/i, "RFC 3834: a DSN is an automatic reply");
  const contentType = top.header("content-type") ?? "";
  assert.match(contentType, /^multipart\/report\s*;/i);
  assert.match(contentType, /report-type\s*=\s*"?delivery-status"?/i);
  const [human, status, attached] = parts(top);
  assert.ok(human && status && attached, `three parts: ${dsn.raw}`);
  assert.match(human.header("content-type") ?? "text/plain", /^text\/plain/i);
  assert.match(status.header("content-type") ?? "", /^message\/delivery-status/i);
  const report = status.body;
  assert.match(report, new RegExp(`^Reporting-MTA:\\s*dns;\\s*${HOSTNAME.replace(/\./g, "\\.")}`, "im"));
  assert.match(report, new RegExp(`^Final-Recipient:\\s*rfc822;\\s*${rcpt.replace(/\./g, "\\.")}\\s*$`, "im"));
  assert.match(report, /^Action:\s*failed\s*$/im);
  assert.match(report, /^Status:\s*5\.\d{1,3}\.\d{1,3}\s*$/im);
  const diag = /^Diagnostic-Code:\s*smtp;\s*(.*(?:\r\n[ \t].*)*)/im.exec(report)?.[1]?.replace(/\r\n[ \t]+/g, " ");
  assert.ok(diag, report);
  assert.match(diag, diagnostic, "the remote's reply is the Diagnostic-Code");
  assert.match(attached.header("content-type") ?? "", /^(message\/rfc822|text\/rfc822-headers)/i, "the original is attached");
  assert.match(attached.body, new RegExp(`^Message-ID: ${original.messageId.replace(/[.<>]/g, "\\$&")}`, "im"));
  assert.match(attached.body, new RegExp(`^Subject: ${original.subject}`, "im"));
}

test("5xx at RCPT: bounced, and a DSN (multipart/report) in the sender's INBOX", async () => {
  const rcpt = `nobody@${BOUNCE.domain}`;
  const subject = "Refused at RCPT";
  const { id, messageId } = await submit(rcpt, subject);
  await bounceReport(id, rcpt, { messageId, subject }, /550 5\.1\.1 Recipient address rejected: User unknown here/);
  assert.equal(bounceSink.messages().length, 0);
});

test("5xx after DATA: bounced with the remote's reply to the message", async () => {
  await bounceSink.reconfigure({ hostname: BOUNCE.host, hardReject: ["."], hardReply: "554 5.7.1 Message content rejected" });
  const rcpt = `someone@${BOUNCE.domain}`;
  const subject = "Refused after DATA";
  const { id, messageId } = await submit(rcpt, subject);
  await bounceReport(id, rcpt, { messageId, subject }, /554 5\.7\.1 Message content rejected/);
});

test("never bounce a bounce: a null-sender message that fails permanently produces no DSN", async () => {
  await bounceSink.reconfigure({ hostname: BOUNCE.host, hardReject: ["RCPT"], hardReply: "550 5.1.1 Recipient address rejected: User unknown here" });
  const dsnsBefore = (await world.mailboxOf(ALICE)).length;
  // Submission refuses the null sender, so the message enters behind the spam filter, as a DSN would.
  const nullSender = await world.publishClassified(
    simpleMessage({ from: `MAILER-DAEMON@${HOSTNAME}`, to: `ghost@${BOUNCE.domain}`, subject: "Undeliverable: something", headers: { "Auto-Submitted": "auto-replied" } }),
    { mailFrom: "", rcptTo: [`ghost@${BOUNCE.domain}`] },
  );
  // A bounce published after it: once its DSN is in, the null-sender one's would be too.
  const subject = "Bounced after the null sender";
  const { id, messageId } = await submit(`another@${BOUNCE.domain}`, subject);
  const bounced = await waitFor("the null-sender recipient bounced", rowWith(nullSender, `ghost@${BOUNCE.domain}`, (r) => r.status === "bounced"), 60_000, explain(nullSender));
  assert.match(bounced.last_error ?? "", /550 5\.1\.1/);
  await bounceReport(id, `another@${BOUNCE.domain}`, { messageId, subject }, /550 5\.1\.1/);
  const after = await world.mailboxOf(ALICE);
  assert.equal(after.length, dsnsBefore + 1, "one new DSN: the one for the normal sender");
  assert.equal((await row(nullSender, `ghost@${BOUNCE.domain}`))!.dsn_mail_id, null, "no DSN for the null sender");
  const dsnMessages = await world.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbound_messages WHERE source = 'dsn'");
  assert.equal(dsnMessages.rows[0]!.n, 0, "no DSN went to a remote address");
  assert.ok(after.every((m) => !m.raw.includes("ghost@bounce.test")), "nothing about the null-sender message reached anyone");
});
