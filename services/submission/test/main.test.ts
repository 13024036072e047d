import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { createTransport } from "nodemailer";
import { clusterEnv, createTestDatabase, startDnsServer, startServiceProcess, type DnsServer, type ServiceProcess, type TestDatabase } from "@postline/testkit";
import { PASSWORD, seedDirectory } from "./harness.ts";

// src/main.ts as its own process in cluster mode (PostgreSQL, Kafka, MinIO) with the spam filter and
// delivery behind it, driven by real clients: swaks (587 STARTTLS, 465), nodemailer, python3's smtplib.

let t: TestDatabase;
let dns: DnsServer;
const procs: ServiceProcess[] = [];
let port = 0;
let tlsPort = 0;

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  dns = await startDnsServer({});
  const env = clusterEnv(t.url, {
    POSTLINE_SUBMISSION_HOST: "127.0.0.1",
    POSTLINE_SUBMISSION_PORT: "0",
    POSTLINE_SUBMISSIONS_PORT: "0",
    POSTLINE_HOSTNAME: "submit.example.test",
    POSTLINE_DNS_SERVERS: dns.address,
  });
  for (const name of ["delivery", "spam-filter", "submission"]) procs.push(await startServiceProcess(name, env));
  const listening = procs[2]!.listening.submission!;
  port = Number(new URL(listening.submission!).port);
  tlsPort = Number(new URL(listening.submissions!).port);
});
after(async () => {
  for (const p of procs.reverse()) await p.stop("SIGKILL");
  await dns?.stop();
  await t?.drop();
});

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 60_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Waits until a message with `subject` is in the INBOX of `address`. */
async function inInbox(address: string, subject: string, timeoutMs = 30_000): Promise<{ mail_id: string }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.db.query<{ mail_id: string }>(
      `SELECT m.mail_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
        WHERE a.address = $1 AND b.name = 'INBOX' AND m.subject = $2`,
      [address, subject],
    );
    if (r.rows[0]) return r.rows[0];
    if (Date.now() > until) throw new Error(`${subject} not in ${address}'s INBOX`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

test("swaks over 587 (STARTTLS, AUTH PLAIN): refused without TLS, delivered to a local mailbox with it", async () => {
  const clear = await run("swaks", ["--server", `127.0.0.1:${port}`, "--auth", "PLAIN", "--auth-user", "user@example.test", "--auth-password", PASSWORD, "--from", "user@example.test", "--to", "other@example.test"]);
  assert.doesNotMatch(clear, /<~?\s+235 /, clear);
  const out = await run("swaks", [
    "--server", `127.0.0.1:${port}`, "--tls", "--auth", "PLAIN", "--auth-user", "user@example.test", "--auth-password", PASSWORD,
    "--from", "user@example.test", "--to", "other@example.test", "--h-From", "user@example.test", "--header", "Subject: swaks 587",
  ]);
  const id = /<~\s+250 2\.0\.0 queued as ([0-9A-Z]{26})/.exec(out);
  assert.ok(id, out);
  assert.equal((await inInbox("other@example.test", "swaks 587")).mail_id, id[1]);
});

test("swaks over 465 (implicit TLS, AUTH LOGIN); wrong password 535 5.7.8; sender not owned 553 5.7.1", async () => {
  const common = ["--server", `127.0.0.1:${tlsPort}`, "--tlsc", "--auth", "LOGIN", "--auth-user", "user@example.test", "--to", "other@example.test"];
  const ok = await run("swaks", [...common, "--auth-password", PASSWORD, "--from", "user@example.test", "--h-From", "user@example.test", "--header", "Subject: swaks 465"]);
  assert.match(ok, /<~\s+250 2\.0\.0 queued as /, ok);
  await inInbox("other@example.test", "swaks 465");
  const wrong = await run("swaks", [...common, "--auth-password", "not the right password", "--from", "user@example.test"]);
  assert.match(wrong, /<~\*\s+535 5\.7\.8 /, wrong);
  const notOwned = await run("swaks", [...common, "--auth-password", PASSWORD, "--from", "other@example.test"]);
  assert.match(notOwned, /<~\*\s+553 5\.7\.1 /, notOwned);
});

test("nodemailer over 587 with STARTTLS", async () => {
  const transport = createTransport({ host: "127.0.0.1", port, secure: false, requireTLS: true, auth: { user: "user@example.test", pass: PASSWORD }, tls: { rejectUnauthorized: false } });
  const info = await transport.sendMail({ from: "User <sales@example.test>", to: "other@example.test", subject: "nodemailer 587", text: "hi" });
  assert.match(info.response, /^250 2\.0\.0 queued as /);
  await inInbox("other@example.test", "nodemailer 587");
  transport.close();
});

test("python3 smtplib over 465, and the hourly limit is shared through the database", async () => {
  const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
with smtplib.SMTP_SSL("127.0.0.1", ${tlsPort}, context=ctx) as s:
    s.login("user@example.test", "${PASSWORD}")
    s.sendmail("user@example.test", ["other@example.test"], "From: user@example.test\\r\\nSubject: smtplib 465\\r\\n\\r\\nhi\\r\\n")
    print("SENT")
`;
  const out = await run("python3", ["-c", script]);
  assert.match(out, /SENT/, out);
  await inInbox("other@example.test", "smtplib 465");
  const r = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM submission_log l JOIN accounts a ON a.id = l.account_id WHERE a.address = 'user@example.test'");
  assert.equal(r.rows[0]!.n, 4, "every accepted message of user took one slot of the hour");
});
