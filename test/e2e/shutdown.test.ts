import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { simpleMessage, SmtpClient, type ServiceProcess } from "@postline/testkit";
import { startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// Graceful shutdown on SIGTERM, on the service processes (cluster mode, real Kafka, PostgreSQL and
// MinIO): readiness goes not-ready and the listeners close at once; SMTP sessions in DATA finish
// with their 250 and the message is delivered; what is still open when the grace period ends gets
// 421 4.3.2 (SMTP), idle IMAP sessions get BYE; the process exits 0. Exit code 0 also means "within
// the grace period + 10 s": past that the platform's watchdog exits 1 (libs/platform run.ts).
const GRACE_SECONDS = 4;
let install: Installation;
const extra: ServiceProcess[] = [];

before(async () => {
  install = await startInstallation({
    env: {
      POSTLINE_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
      POSTLINE_SUBMISSION_HOST: "127.0.0.1",
      POSTLINE_SUBMISSION_PORT: "0",
      POSTLINE_SUBMISSIONS_PORT: "0",
      POSTLINE_IMAP_HOST: "127.0.0.1",
      POSTLINE_IMAP_PORT: "0",
      POSTLINE_IMAPS_PORT: "0",
      POSTLINE_POP3_PORT: "0",
      POSTLINE_POP3S_PORT: "0",
    },
  });
});
after(async () => {
  for (const p of extra) await p.stop("SIGKILL");
  await install?.stop();
});

const portOf = (url: string | undefined) => Number(/:(\d+)$/.exec(url ?? "")?.[1]);

async function notReady(p: ServiceProcess): Promise<void> {
  await waitFor(`${p.name} /readyz to answer 503`, async () => (await fetch(`${p.ops}/readyz`)).status === 503, 10_000);
}

async function delivered(mailId: string, address: string) {
  return waitFor(`message ${mailId} in ${address}'s mailbox`, async () => (await storedMessages(install)).find((m) => m.mail_id === mailId && m.address === address));
}

function queueId(text: string): string {
  const id = /queued as (\S+)/.exec(text)?.[1];
  assert.ok(id, text);
  return id;
}

test("inbound-mx on SIGTERM: not ready and refusing at once, the message in DATA gets 250 and is delivered, an idle session gets 421 4.3.2, exit 0", async () => {
  const mx = install.services.get("inbound-mx")!;
  const port = install.mxPort;
  const sending = await SmtpClient.connect(port);
  assert.equal((await sending.read()).code, 220);
  assert.equal((await sending.command("EHLO sender.good.test")).code, 250);
  assert.equal((await sending.command("MAIL FROM:<carol@good.test>")).code, 250);
  assert.equal((await sending.command("RCPT TO:<alice@example.test>")).code, 250);
  assert.equal((await sending.command("DATA")).code, 354);
  sending.write(simpleMessage({ from: "carol@good.test", to: "alice@example.test", subject: "In flight at SIGTERM" }));

  const idle = await SmtpClient.connect(port);
  assert.equal((await idle.read()).code, 220);
  assert.equal((await idle.command("EHLO sender.good.test")).code, 250);

  const exited = mx.stop("SIGTERM");
  await notReady(mx);
  await assert.rejects(SmtpClient.connect(port), /ECONNREFUSED/, "a new connection after SIGTERM is refused");

  const reply = await sending.data("The last line, sent after SIGTERM.\r\n");
  assert.equal(reply.code, 250, reply.raw);
  const mailId = queueId(reply.raw);

  const last = await idle.read((GRACE_SECONDS + 10) * 1000);
  assert.equal(last.code, 421, last.raw);
  assert.match(last.raw, /^421 4\.3\.2 /);
  await idle.closed;

  assert.equal(await exited, 0);
  assert.ok(mx.logs.some((l) => l.msg === "stopped"), "the process logged a complete stop");
  await delivered(mailId, "alice@example.test");
});

test("submission on SIGTERM: an authenticated message in DATA gets 250 and is delivered, new connections are refused, exit 0", async () => {
  const sub = await install.restart("submission");
  extra.push(sub);
  const port = portOf(sub.listening.submission?.submission);
  const c = await SmtpClient.connect(port);
  assert.equal((await c.read()).code, 220);
  await c.command("EHLO client.example.org");
  assert.equal((await c.command("STARTTLS")).code, 220);
  await c.startTls();
  await c.command("EHLO client.example.org");
  const auth = await c.command(`AUTH PLAIN ${Buffer.from("\0alice@example.test\0alice-password-1").toString("base64")}`);
  assert.equal(auth.code, 235, auth.raw);
  assert.equal((await c.command("MAIL FROM:<alice@example.test>")).code, 250);
  assert.equal((await c.command("RCPT TO:<bob@example.test>")).code, 250);
  assert.equal((await c.command("DATA")).code, 354);
  c.write(simpleMessage({ from: "alice@example.test", to: "bob@example.test", subject: "Submitted across a SIGTERM" }));

  const exited = sub.stop("SIGTERM");
  await notReady(sub);
  await assert.rejects(SmtpClient.connect(port), /ECONNREFUSED/);

  const reply = await c.data("Sent after SIGTERM.\r\n");
  assert.equal(reply.code, 250, reply.raw);
  const mailId = queueId(reply.raw);
  const next = await c.command("MAIL FROM:<alice@example.test>");
  assert.match(next.raw, /^421 4\.3\.2 /, "no new transaction once shutting down");
  assert.equal(await exited, 0);
  await delivered(mailId, "bob@example.test");
});

/** A raw IMAP connection that collects every line it receives. */
function imapSocket(port: number): Promise<{ socket: Socket; lines: string[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const lines: string[] = [];
    let buffer = "";
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("data", (d: Buffer) => {
      buffer += d.toString("latin1");
      let i;
      while ((i = buffer.indexOf("\r\n")) >= 0) {
        lines.push(buffer.slice(0, i));
        buffer = buffer.slice(i + 2);
      }
    });
    socket.once("connect", () => resolve({ socket, lines, closed }));
    socket.once("error", reject);
  });
}

test("imap-pop3 on SIGTERM: an idle IMAP session gets BYE and is closed, new connections are refused, exit 0", async () => {
  const imap = await install.restart("imap-pop3");
  extra.push(imap);
  const port = portOf(imap.listening["imap-pop3"]?.imap);
  const session = await imapSocket(port);
  await waitFor("the IMAP greeting", async () => session.lines.some((l) => l.startsWith("* OK")), 10_000);
  session.socket.write("a1 CAPABILITY\r\n");
  await waitFor("the CAPABILITY reply", async () => session.lines.some((l) => l.startsWith("a1 OK")), 10_000);

  const exited = imap.stop("SIGTERM");
  await session.closed;
  assert.ok(session.lines.some((l) => /^\* BYE .*shutting down/i.test(l)), session.lines.join("\n"));
  await assert.rejects(imapSocket(port), /ECONNREFUSED/);
  assert.equal(await exited, 0);
});
