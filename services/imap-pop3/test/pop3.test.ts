import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { createSecureContext } from "node:tls";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Registry } from "prom-client";
import { FsBlobStore } from "@postline/blobstore";
import { addDomain, createAccount } from "@postline/directory";
import { appendMessage, findMailboxByName } from "@postline/mailstore";
import { parseMessage, parseMessageBuffer } from "@postline/mime";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { createAuthenticator, type Authenticator } from "@postline/auth";
import type { ChangeNotifier, MailboxChange } from "../src/imap/server/core/op.ts";
import { DotStuffer, startPop3Listeners, type Pop3Listeners } from "../src/pop3/index.ts";
import { Pop3TestClient, unstuff } from "./pop3-client.ts";

const run = promisify(execFile);
const PASSWORD = "secret-password";
const plain = (s: string) => Buffer.from(`\0${s}\0${PASSWORD}`).toString("base64");

let t: TestDatabase;
let dir: string;
let blobs: FsBlobStore;
let registry: Registry;
let authenticator: Authenticator;
/** Plaintext logins allowed (loopback tests). */
let open: Pop3Listeners;
/** The production default: logins only after TLS. */
let strict: Pop3Listeners;
const announced: MailboxChange[][] = [];
const notifier: ChangeNotifier = {
  watch: () => () => undefined,
  async announce(changes) {
    announced.push(changes);
  },
};

const portOf = (url: string) => Number(new URL(url).port);
const logger = createLogger("pop3-test", (process.env.POSTLINE_TEST_LOG_LEVEL as "info" | undefined) ?? "silent");

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "example.test");
  dir = await mkdtemp(join(tmpdir(), "pop3-test-"));
  blobs = await FsBlobStore.open(join(dir, "blobs"));
  await run("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
  ]);
  const context = createSecureContext({ key: await readFile(join(dir, "key.pem")), cert: await readFile(join(dir, "cert.pem")) });
  registry = new Registry();
  authenticator = createAuthenticator({ db: t.db, logger, registry, env: {} });
  const common = { db: t.db, blobs, logger, registry, authenticator, notifier, tls: { current: () => context } };
  const ports = { POSTLINE_POP3_HOST: "127.0.0.1", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0" };
  open = await startPop3Listeners({ ...common, env: { ...ports, POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true" } });
  strict = await startPop3Listeners({ ...common, env: ports });
});

after(async () => {
  await open?.stop(100);
  await strict?.stop(100);
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let accounts = 0;
async function account(messages: Buffer[]): Promise<{ id: number; address: string; inboxId: number }> {
  const address = `user${++accounts}@example.test`;
  const { id } = await createAccount(t.db, { address, password: PASSWORD });
  const inboxId = (await findMailboxByName(t.db, id, "INBOX"))!.id;
  for (const m of messages) await deliver(id, inboxId, m);
  return { id, address, inboxId };
}

/** With `prefix`: as delivery stores it, the prefix in the row before the message's blob. */
async function deliver(accountId: number, mailboxId: number, message: Buffer, prefix?: Buffer): Promise<void> {
  const blob = await blobs.put(message);
  const size = (prefix?.length ?? 0) + blob.size;
  const structure = parseMessageBuffer(prefix ? Buffer.concat([prefix, message]) : message);
  await appendMessage(t.db, { accountId, mailboxId, blob: { ...blob, size, prefix: prefix ?? null }, internalDate: new Date(), structure });
}

async function loggedIn(address: string, listeners = open): Promise<Pop3TestClient> {
  const c = await Pop3TestClient.connect(portOf(listeners.listening.pop3!));
  assert.match(await c.line(), /^\+OK/);
  assert.match(await c.command(`USER ${address}`), /^\+OK/);
  assert.match(await c.command(`PASS ${PASSWORD}`), /^\+OK Logged in/);
  return c;
}

async function capa(c: Pop3TestClient): Promise<string[]> {
  assert.match(await c.command("CAPA"), /^\+OK/);
  return (await c.body()).toString().trim().split("\r\n");
}

const SIMPLE = Buffer.from("From: a@example.test\r\nTo: b@example.test\r\nSubject: one\r\n\r\nHello\r\nWorld\r\nthird line\r\n");
const DOTTED = Buffer.from("Subject: dots\r\n\r\n.hidden\r\n..two\r\n.\r\nmiddle\r\n.\r\n");
const BARE_LF = Buffer.from("Subject: lf\n\nline1\nline2");

describe("POP3 authorization", () => {
  test("CAPA before and after STLS; logins are refused before TLS; plaintext sent after STLS is discarded", async () => {
    const c = await Pop3TestClient.connect(portOf(strict.listening.pop3!));
    assert.equal(await c.line(), "+OK Postline POP3 server ready");
    const before = await capa(c);
    assert.ok(before.includes("STLS") && before.includes("TOP") && before.includes("UIDL") && before.includes("PIPELINING"), before.join());
    assert.ok(before.includes("RESP-CODES") && before.includes("AUTH-RESP-CODE") && before.includes("IMPLEMENTATION Postline"));
    assert.ok(!before.includes("USER") && !before.includes("SASL PLAIN"), before.join());
    const { address } = await account([SIMPLE]);
    assert.match(await c.command(`USER ${address}`), /^-ERR \[AUTH\] /);
    assert.match(await c.command(`PASS ${PASSWORD}`), /^-ERR \[AUTH\] /);
    assert.match(await c.command(`AUTH PLAIN ${plain(address)}`), /^-ERR \[AUTH\] /);
    // STLS with a command pipelined behind it in plaintext: that command must not survive the handshake
    c.send(`STLS\r\nUSER ${address}\r\n`);
    assert.equal(await c.line(), "+OK Begin TLS negotiation");
    await c.upgrade();
    const after = await capa(c);
    assert.ok(after.includes("USER") && after.includes("SASL PLAIN") && !after.includes("STLS"), after.join());
    assert.match(await c.command(`PASS ${PASSWORD}`), /^-ERR USER first/);
    assert.match(await c.command("STLS"), /^-ERR/);
    assert.match(await c.command(`USER ${address}`), /^\+OK/);
    assert.match(await c.command(`PASS ${PASSWORD}`), /^\+OK Logged in; maildrop has 1 messages/);
    assert.deepEqual(await capa(c), ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION Postline"]);
    assert.equal(await c.command("QUIT"), "+OK Postline POP3 server signing off (0 messages deleted)");
    await c.closed();
  });

  test("USER/PASS: a wrong password is [AUTH] and USER is needed again; passwords may contain spaces", async () => {
    const { address } = await account([]);
    const c = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await c.line();
    assert.match(await c.command(`USER ${address}`), /^\+OK/);
    assert.equal(await c.command("PASS wrong password with spaces"), "-ERR [AUTH] Authentication failed");
    assert.match(await c.command(`PASS ${PASSWORD}`), /^-ERR USER first/);
    assert.match(await c.command(`USER nobody@example.test`), /^\+OK/, "USER does not reveal whether the name exists");
    assert.equal(await c.command(`PASS ${PASSWORD}`), "-ERR [AUTH] Authentication failed");
    assert.match(await c.command(`USER ${address.toUpperCase()}`), /^\+OK/);
    assert.equal(await c.command(`PASS ${PASSWORD}`), "+OK Logged in; maildrop has 0 messages (0 octets)");
    c.destroy();
  });

  test("AUTH PLAIN with an initial response, with a continuation, cancelled with *, malformed", async () => {
    const { address } = await account([SIMPLE]);
    const a = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await a.line();
    assert.match(await a.command(`AUTH PLAIN ${plain(address)}`), /^\+OK Logged in; maildrop has 1 messages/);
    a.destroy();

    const b = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await b.line();
    assert.equal(await b.command("AUTH PLAIN"), "+ ");
    assert.equal(await b.command("*"), "-ERR Authentication cancelled");
    assert.equal(await b.command("AUTH PLAIN"), "+ ");
    assert.equal(await b.command("%%%"), "-ERR Malformed SASL PLAIN response");
    assert.match(await b.command("AUTH CRAM-MD5"), /^-ERR Unsupported/);
    assert.equal(await b.command("AUTH"), "+OK Mechanisms follow");
    assert.equal((await b.body()).toString(), "PLAIN\r\n");
    assert.equal(await b.command(`AUTH PLAIN ${Buffer.from(`\0${address}\0wrong-password`).toString("base64")}`), "-ERR [AUTH] Authentication failed");
    assert.equal(await b.command("AUTH PLAIN"), "+ ");
    assert.match(await b.command(plain(address)), /^\+OK Logged in; maildrop has 1 messages/);
    b.destroy();
  });
});

describe("POP3 transaction", () => {
  test("STAT, LIST, UIDL, TOP and RETR, byte for byte, with byte-stuffing and CRLF line endings", async () => {
    const { address, inboxId } = await account([SIMPLE, DOTTED, BARE_LF]);
    const uidvalidity = (await t.db.query<{ uidvalidity: number }>("SELECT uidvalidity FROM mailboxes WHERE id = $1", [inboxId])).rows[0]!.uidvalidity;
    const c = await loggedIn(address);
    const total = SIMPLE.length + DOTTED.length + BARE_LF.length;
    assert.equal(await c.command("STAT"), `+OK 3 ${total}`);
    assert.equal(await c.command("LIST"), `+OK 3 messages (${total} octets)`);
    assert.equal((await c.body()).toString(), `1 ${SIMPLE.length}\r\n2 ${DOTTED.length}\r\n3 ${BARE_LF.length}\r\n`);
    assert.equal(await c.command("LIST 2"), `+OK 2 ${DOTTED.length}`);
    assert.equal(await c.command("LIST 4"), "-ERR No such message");
    assert.equal(await c.command("UIDL"), "+OK 3 messages (" + total + " octets)");
    assert.equal((await c.body()).toString(), `1 ${uidvalidity}.1\r\n2 ${uidvalidity}.2\r\n3 ${uidvalidity}.3\r\n`);
    assert.equal(await c.command("UIDL 3"), `+OK 3 ${uidvalidity}.3`);

    assert.equal(await c.command("RETR 1"), `+OK ${SIMPLE.length} octets`);
    assert.deepEqual(await c.body(), SIMPLE);
    assert.equal(await c.command("RETR 2"), `+OK ${DOTTED.length} octets`);
    const wire = await c.rawBody();
    assert.equal(wire.toString(), "Subject: dots\r\n\r\n..hidden\r\n...two\r\n..\r\nmiddle\r\n..\r\n");
    assert.deepEqual(unstuff(wire), DOTTED);
    assert.equal(await c.command("RETR 3"), `+OK ${BARE_LF.length} octets`);
    assert.equal((await c.body()).toString(), "Subject: lf\r\n\r\nline1\r\nline2\r\n");

    assert.equal(await c.command("TOP 1 0"), "+OK Top of message follows");
    assert.equal((await c.body()).toString(), "From: a@example.test\r\nTo: b@example.test\r\nSubject: one\r\n\r\n");
    assert.equal(await c.command("TOP 1 2"), "+OK Top of message follows");
    assert.equal((await c.body()).toString(), "From: a@example.test\r\nTo: b@example.test\r\nSubject: one\r\n\r\nHello\r\nWorld\r\n");
    assert.equal(await c.command("TOP 1 100"), "+OK Top of message follows");
    assert.deepEqual(await c.body(), SIMPLE);
    assert.equal(await c.command("TOP 2 1"), "+OK Top of message follows");
    assert.equal((await c.rawBody()).toString(), "Subject: dots\r\n\r\n..hidden\r\n");
    assert.match(await c.command("TOP 2"), /^-ERR/);
    assert.equal(await c.command("NOOP"), "+OK");
    c.destroy();
  });

  test("a message stored behind a header prefix (as delivery stores it): sizes, RETR and TOP include the prefix", async () => {
    const { id, address, inboxId } = await account([]);
    const prefix = Buffer.from("Return-Path: <a@example.test>\r\nX-Postline-Spam: deliver, score=0.0, symbols=\r\n");
    await deliver(id, inboxId, DOTTED, prefix);
    const whole = Buffer.concat([prefix, DOTTED]);
    const c = await loggedIn(address);
    assert.equal(await c.command("STAT"), `+OK 1 ${whole.length}`);
    assert.equal(await c.command("RETR 1"), `+OK ${whole.length} octets`);
    assert.deepEqual(await c.body(), whole);
    assert.equal(await c.command("TOP 1 1"), "+OK Top of message follows");
    assert.equal((await c.rawBody()).toString(), `${prefix.toString()}Subject: dots\r\n\r\n..hidden\r\n`);
    c.destroy();
  });

  test("the maildrop is a snapshot: mail arriving during the session shows in the next one", async () => {
    const { id, address, inboxId } = await account([SIMPLE]);
    const c = await loggedIn(address);
    await deliver(id, inboxId, DOTTED);
    assert.equal(await c.command("STAT"), `+OK 1 ${SIMPLE.length}`);
    assert.match(await c.command("QUIT"), /^\+OK/);
    const d = await loggedIn(address);
    assert.equal(await d.command("STAT"), `+OK 2 ${SIMPLE.length + DOTTED.length}`);
    d.destroy();
  });

  test("DELE then RSET keeps everything; a deleted message is gone from STAT, LIST and RETR until then", async () => {
    const { address } = await account([SIMPLE, DOTTED]);
    const c = await loggedIn(address);
    assert.equal(await c.command("DELE 1"), "+OK Message 1 deleted");
    assert.equal(await c.command("DELE 1"), "-ERR Message 1 already deleted");
    assert.equal(await c.command("STAT"), `+OK 1 ${DOTTED.length}`);
    assert.equal(await c.command("RETR 1"), "-ERR Message 1 already deleted");
    assert.equal(await c.command("LIST"), `+OK 1 messages (${DOTTED.length} octets)`);
    assert.equal((await c.body()).toString(), `2 ${DOTTED.length}\r\n`);
    assert.equal(await c.command("RSET"), `+OK Maildrop has 2 messages (${SIMPLE.length + DOTTED.length} octets)`);
    assert.equal(await c.command("QUIT"), "+OK Postline POP3 server signing off (0 messages deleted)");
    const count = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id WHERE a.address = $1", [address]);
    assert.equal(count.rows[0]!.n, 2);
  });

  test("DELE then QUIT removes the messages, gives back the quota and announces the expunges", async () => {
    const { id, address, inboxId } = await account([SIMPLE, DOTTED, BARE_LF]);
    const usedBefore = (await t.db.query<{ used_bytes: number }>("SELECT used_bytes FROM accounts WHERE id = $1", [id])).rows[0]!.used_bytes;
    const c = await loggedIn(address);
    assert.match(await c.command("DELE 1"), /^\+OK/);
    assert.match(await c.command("DELE 3"), /^\+OK/);
    const seen = announced.length;
    assert.equal(await c.command("QUIT"), "+OK Postline POP3 server signing off (2 messages deleted)");
    await c.closed();
    const left = await t.db.query<{ uid: number }>("SELECT uid FROM messages WHERE mailbox_id = $1 ORDER BY uid", [inboxId]);
    assert.deepEqual(left.rows.map((r) => Number(r.uid)), [2]);
    const usedAfter = (await t.db.query<{ used_bytes: number }>("SELECT used_bytes FROM accounts WHERE id = $1", [id])).rows[0]!.used_bytes;
    assert.equal(usedBefore - usedAfter, SIMPLE.length + BARE_LF.length);
    const changes = announced.slice(seen).flat().filter((ch) => ch.mailboxId === inboxId);
    assert.deepEqual(changes.map((ch) => [ch.accountId, ch.uid, ch.kind]), [[id, 1, "expunge"], [id, 3, "expunge"]]);
    const tombstones = await t.db.query<{ uid: number }>("SELECT uid FROM expunged_messages WHERE mailbox_id = $1 ORDER BY uid", [inboxId]);
    assert.deepEqual(tombstones.rows.map((r) => Number(r.uid)), [1, 3]);
    // the next session numbers what is left from 1
    const d = await loggedIn(address);
    assert.equal(await d.command("STAT"), `+OK 1 ${DOTTED.length}`);
    d.destroy();
  });

  test("DELE then a dropped connection removes nothing", async () => {
    const { address, inboxId } = await account([SIMPLE, DOTTED]);
    const seen = announced.length;
    const c = await loggedIn(address);
    assert.match(await c.command("DELE 1"), /^\+OK/);
    assert.match(await c.command("DELE 2"), /^\+OK/);
    c.destroy();
    await sleep(200);
    const left = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages WHERE mailbox_id = $1", [inboxId]);
    assert.equal(left.rows[0]!.n, 2);
    assert.equal(announced.slice(seen).flat().filter((ch) => ch.mailboxId === inboxId).length, 0);
  });

  test("pipelined commands are answered in order", async () => {
    const { address } = await account([SIMPLE, DOTTED]);
    const c = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await c.line();
    c.send(`CAPA\r\nUSER ${address}\r\nPASS ${PASSWORD}\r\nSTAT\r\nLIST\r\nRETR 2\r\nUIDL 1\r\nDELE 1\r\nSTAT\r\nRSET\r\nNOOP\r\nQUIT\r\n`);
    assert.match(await c.line(), /^\+OK Capability/);
    await c.body();
    assert.match(await c.line(), /^\+OK Send/);
    assert.match(await c.line(), /^\+OK Logged in/);
    assert.equal(await c.line(), `+OK 2 ${SIMPLE.length + DOTTED.length}`);
    assert.match(await c.line(), /^\+OK 2 messages/);
    assert.equal((await c.body()).toString(), `1 ${SIMPLE.length}\r\n2 ${DOTTED.length}\r\n`);
    assert.match(await c.line(), /^\+OK \d+ octets/);
    assert.deepEqual(await c.body(), DOTTED);
    assert.match(await c.line(), /^\+OK 1 \d+\.1$/);
    assert.equal(await c.line(), "+OK Message 1 deleted");
    assert.equal(await c.line(), `+OK 1 ${DOTTED.length}`);
    assert.match(await c.line(), /^\+OK Maildrop has 2/);
    assert.equal(await c.line(), "+OK");
    assert.match(await c.line(), /^\+OK .*signing off \(0 messages deleted\)/);
    await c.closed();
  });

  test("garbage gets -ERR and the session goes on; an overlong line too; too many bad commands close it", async () => {
    const { address } = await account([SIMPLE]);
    const c = await loggedIn(address);
    assert.equal(await c.command("FOO bar"), "-ERR Unknown command");
    assert.equal(await c.command("\u0000\u00ff garbage"), "-ERR Unknown command");
    assert.equal(await c.command(""), "-ERR Unknown command");
    assert.equal(await c.command(`NOOP ${"x".repeat(5000)}`), "-ERR Line too long");
    assert.equal(await c.command(`LIST ${"9".repeat(30000)}`), "-ERR Line too long");
    assert.equal(await c.command("RETR abc"), "-ERR Message number required");
    assert.equal(await c.command("USER someone"), "-ERR USER is not valid in this state");
    assert.equal(await c.command("STAT"), `+OK 1 ${SIMPLE.length}`);
    for (let i = 0; i < 2; i++) assert.match(await c.command("BAD"), /^-ERR Unknown command$/);
    assert.match(await c.command("BAD"), /too many bad commands, closing/);
    await c.closed();

    // the first state refuses transaction commands the same way
    const d = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await d.line();
    assert.equal(await d.command("STAT"), "-ERR STAT is not valid in this state");
    assert.equal(await d.command("QUIT"), "+OK Postline POP3 server signing off");
    await d.closed();
  });

  test("the implicit TLS port", async () => {
    const { address } = await account([SIMPLE]);
    const c = await Pop3TestClient.connect(portOf(strict.listening.pop3s!), { tls: true });
    assert.equal(await c.line(), "+OK Postline POP3 server ready");
    const caps = await capa(c);
    assert.ok(caps.includes("USER") && !caps.includes("STLS"), caps.join());
    assert.match(await c.command(`AUTH PLAIN ${plain(address)}`), /^\+OK Logged in/);
    assert.equal(await c.command("RETR 1"), `+OK ${SIMPLE.length} octets`);
    assert.deepEqual(await c.body(), SIMPLE);
    assert.match(await c.command("QUIT"), /^\+OK/);
  });
});

describe("POP3 login outcomes", () => {
  test("repeated failures throttle the account: even the right password gets [SYS/TEMP]; a disabled account gets [AUTH]", async () => {
    const { address } = await account([]);
    const c = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await c.line();
    for (let i = 0; i < 5; i++) {
      assert.match(await c.command(`USER ${address}`), /^\+OK/);
      assert.equal(await c.command(`PASS wrong-${i}`), "-ERR [AUTH] Authentication failed");
    }
    assert.match(await c.command(`USER ${address}`), /^\+OK/);
    assert.match(await c.command(`PASS ${PASSWORD}`), /^-ERR \[SYS\/TEMP\] Too many failed logins; try again in \d+ seconds$/);
    assert.match(await c.command(`AUTH PLAIN ${plain(address)}`), /^-ERR \[SYS\/TEMP\] /);
    c.destroy();

    const other = await account([]);
    await t.db.query("UPDATE accounts SET disabled = true WHERE id = $1", [other.id]);
    const d = await Pop3TestClient.connect(portOf(open.listening.pop3!));
    await d.line();
    assert.equal(await d.command(`AUTH PLAIN ${plain(other.address)}`), "-ERR [AUTH] Account disabled");
    d.destroy();
  });

  test("an idle session is logged out without applying its DELEs", async () => {
    const { address, inboxId } = await account([SIMPLE]);
    const listeners = await startPop3Listeners({
      db: t.db, blobs, logger, registry, authenticator, notifier, tls: { current: () => createSecureContext({}) },
      env: { POSTLINE_POP3_HOST: "127.0.0.1", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0", POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true", POSTLINE_POP3_IDLE_TIMEOUT_MS: "300" },
    });
    try {
      const c = await loggedIn(address, listeners);
      assert.match(await c.command("DELE 1"), /^\+OK/);
      assert.equal(await c.line(2_000), "-ERR Autologout; idle for too long");
      await c.closed();
      const left = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages WHERE mailbox_id = $1", [inboxId]);
      assert.equal(left.rows[0]!.n, 1);
    } finally {
      await listeners.stop(0);
    }
  });
});

describe("POP3 with real clients", () => {
  test("python3 poplib over STLS: STAT, LIST, UIDL, RETR, TOP, DELE, QUIT", async () => {
    const { address, inboxId } = await account([SIMPLE, DOTTED]);
    const script = `
import json, poplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3("127.0.0.1", int(sys.argv[1]), timeout=10)
caps = p.capa()
p.stls(context=ctx)
p.user(sys.argv[2]); p.pass_(sys.argv[3])
out = {"stls_advertised": "STLS" in caps, "stat": list(p.stat()), "list": [x.decode() for x in p.list()[1]],
       "uidl": [x.decode() for x in p.uidl()[1]],
       "retr": [b"\\r\\n".join(p.retr(i)[1]).decode() for i in (1, 2)],
       "top": b"\\r\\n".join(p.top(1, 1)[1]).decode()}
p.dele(2)
out["quit"] = p.quit().decode()
print(json.dumps(out))
`;
    const { stdout } = await run("python3", ["-c", script, String(portOf(strict.listening.pop3!)), address, PASSWORD]);
    const out = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(out.stls_advertised, true);
    assert.deepEqual(out.stat, [2, SIMPLE.length + DOTTED.length]);
    assert.deepEqual(out.list, [`1 ${SIMPLE.length}`, `2 ${DOTTED.length}`]);
    assert.equal((out.uidl as string[]).length, 2);
    // poplib gives the lines without their CRLF and un-stuffed
    assert.deepEqual(out.retr, [SIMPLE.toString().replace(/\r\n$/, ""), DOTTED.toString().replace(/\r\n$/, "")]);
    assert.equal(out.top, "From: a@example.test\r\nTo: b@example.test\r\nSubject: one\r\n\r\nHello");
    assert.match(out.quit as string, /^\+OK .*\(1 messages deleted\)/);
    const left = await t.db.query<{ uid: number }>("SELECT uid FROM messages WHERE mailbox_id = $1", [inboxId]);
    assert.deepEqual(left.rows.map((r) => Number(r.uid)), [1]);
  });

  test("curl RETR: plaintext on loopback, STLS with --ssl-reqd, implicit TLS", async () => {
    const { address } = await account([SIMPLE, DOTTED]);
    const curl = async (url: string, ...extra: string[]) => (await run("curl", ["-s", "-S", "-k", "--max-time", "20", ...extra, "-u", `${address}:${PASSWORD}`, url], { encoding: "buffer", maxBuffer: 64 << 20 })).stdout;
    assert.deepEqual(await curl(`${open.listening.pop3}/1`), SIMPLE);
    assert.deepEqual(await curl(`${strict.listening.pop3}/2`, "--ssl-reqd"), DOTTED);
    assert.deepEqual(await curl(`${strict.listening.pop3s}/2`), DOTTED);
    // without TLS the strict listener refuses the login
    await assert.rejects(curl(`${strict.listening.pop3}/1`));
  });

  test("a 20 MB message streams through RETR byte for byte while memory stays flat", async () => {
    const { id, address, inboxId } = await account([]);
    // Generated twice (store, then parse) so the test never holds the message in memory either.
    const LINES = 260_000;
    const generate = async function* () {
      yield Buffer.from("Subject: big\r\nFrom: big@example.test\r\n\r\n");
      for (let i = 0; i < LINES; i += 1000) {
        const chunk: string[] = [];
        for (let j = i; j < i + 1000; j++) chunk.push(j % 7 === 0 ? `.dot line ${j} ${"y".repeat(60)}\r\n` : `line ${j} ${"x".repeat(70)}\r\n`);
        yield Buffer.from(chunk.join(""));
      }
    };
    const hash = createHash("sha256");
    for await (const chunk of generate()) hash.update(chunk);
    const expected = hash.digest("hex");
    const blob = await blobs.put(generate());
    assert.ok(blob.size > 20_000_000, `size ${blob.size}`);
    await appendMessage(t.db, { accountId: id, mailboxId: inboxId, blob, internalDate: new Date(), structure: await parseMessage(generate()) });

    // curl writes to a file, so the server (this process) is all that is measured. Garbage collection
    // is forced before each sample: what is left is what the session retains, not the chunks already
    // sent and not yet collected. At 10 MB/s the transfer takes about 2 s: about 10 samples.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const rssBefore = process.memoryUsage().rss;
    const liveBefore = live();
    let rssPeak = rssBefore;
    const liveSamples: number[] = [];
    const poll = setInterval(() => {
      gc();
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      liveSamples.push(live());
    }, 200);
    try {
      const file = join(dir, "big.eml");
      await run("curl", ["-s", "-S", "--max-time", "60", "--limit-rate", "10M", "-o", file, "-u", `${address}:${PASSWORD}`, `${open.listening.pop3}/1`]);
      clearInterval(poll);
      const received = createHash("sha256");
      let size = 0;
      for await (const chunk of createReadStream(file)) {
        received.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      assert.equal(size, blob.size);
      assert.equal(received.digest("hex"), expected);
    } finally {
      clearInterval(poll);
    }
    const growth = (rssPeak - rssBefore) / 1e6;
    assert.ok(liveSamples.length >= 5, `${liveSamples.length} samples`);
    // The median sample: a session that held the message would show its whole 21.5 MB in every
    // sample after the first, while one sample taken as buffers were still being released (they are
    // freed after the collection, not during it) cannot decide alone.
    const sorted = liveSamples.map((v) => (v - liveBefore) / 1e6).sort((a, b) => a - b);
    const liveGrowth = sorted[Math.floor(sorted.length / 2)]!;
    const report = `RSS grew by ${growth.toFixed(1)} MB, live heap and buffers by ${liveGrowth.toFixed(1)} MB (median; peak ${sorted.at(-1)!.toFixed(1)} MB) while sending a ${(blob.size / 1e6).toFixed(1)} MB message`;
    // Socket buffers and chunks in flight on a busy machine (tests run side by side) account for a few MB at most.
    assert.ok(liveGrowth < 10, report);
    assert.ok(growth < 20, report);
  });
});

describe("POP3 service", () => {
  test("metrics count sessions and commands", async () => {
    const metrics = await registry.metrics();
    assert.match(metrics, /postline_pop3_sessions_total \d+/);
    assert.match(metrics, /postline_pop3_commands_total\{command="RETR"\} \d+/);
    assert.match(metrics, /postline_pop3_commands_total\{command="unknown"\} \d+/);
    assert.match(metrics, /postline_imap_pop3_auth_total\{protocol="pop3",result="success"\} \d+/);
  });

  test("DotStuffer: CRLF across chunk boundaries, dots at chunk starts, TOP counting", () => {
    const run = (chunks: string[], lines?: number) => {
      const s = new DotStuffer(lines);
      const out: Buffer[] = [];
      for (const c of chunks) {
        out.push(s.push(Buffer.from(c)));
        if (s.done) break;
      }
      out.push(s.end());
      return Buffer.concat(out).toString();
    };
    assert.equal(run(["a\r", "\n.b\r\n", ".", "c\n"]), "a\r\n..b\r\n..c\r\n.\r\n");
    assert.equal(run(["h: 1\r\n\r", "\nbody1\r\nbody2\r\n"], 1), "h: 1\r\n\r\nbody1\r\n.\r\n");
    assert.equal(run(["no newline at end"]), "no newline at end\r\n.\r\n");
    assert.equal(run(["ends in CR\r"]), "ends in CR\r\n.\r\n");
    assert.equal(run([""]), ".\r\n");
    assert.equal(run(["h: 1\n\nb\n"], 0), "h: 1\r\n\r\n.\r\n");
  });

  test("stop(): new connections are refused, idle sessions are told, uncommitted DELEs are not applied", async () => {
    const { address, inboxId } = await account([SIMPLE]);
    const listeners = await startPop3Listeners({
      db: t.db, blobs, logger, registry, authenticator, notifier, tls: { current: () => createSecureContext({}) },
      env: { POSTLINE_POP3_HOST: "127.0.0.1", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0", POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true" },
    });
    const c = await loggedIn(address, listeners);
    assert.match(await c.command("DELE 1"), /^\+OK/);
    const started = Date.now();
    await listeners.stop(300);
    assert.ok(Date.now() - started >= 250);
    assert.equal(await c.line(), "-ERR [SYS/TEMP] Server shutting down");
    await c.closed();
    await assert.rejects(Pop3TestClient.connect(portOf(listeners.listening.pop3!)));
    const left = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages WHERE mailbox_id = $1", [inboxId]);
    assert.equal(left.rows[0]!.n, 1);
  });
});
