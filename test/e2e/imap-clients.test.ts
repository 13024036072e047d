import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createAccount } from "@postline/directory";
import { smtpTransaction } from "@postline/testkit";
import { ImapFlow } from "imapflow";
import { readStored, startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";
import { curl, fetchmail, run, startImapService, testCertificate, tlsEnv, type ImapService, type TestCertificate } from "./support/mail-clients.ts";
import { generateMessage } from "./support/messages.ts";
import { RawImap } from "./support/raw-imap.ts";

// Real clients against imap-pop3 in cluster mode (its own process on the real PostgreSQL, Kafka and
// MinIO), reading mail that came in through the whole inbound path: inbound-mx → spam-filter →
// delivery. Each client's copy is compared byte for byte with the stored message (the bytes
// delivery wrote: its trace header on top of the message as received).
const ACCOUNTS = {
  imapflow: { address: "alice@example.test", password: "alice-password-1" },
  imaplib: { address: "bob@example.test", password: "bob-password-12" },
  curl: { address: "dave@example.test", password: "dave-password-12" },
  fetchmail: { address: "erin@example.test", password: "erin-password-12" },
};

let install: Installation;
let imap: ImapService;
let cert: TestCertificate;
let work: string;
/** What was delivered, in delivery order (= UID order in each INBOX). */
let delivered: Buffer[];

/** Three realistic messages (plain 8-bit, alternative, attachment) and one with dot-leading lines. */
function messagesToSend(): Buffer[] {
  const fromCarol = (b: Buffer) => Buffer.from(b.toString("utf8").replace(/^From: .*$/m, "From: Carol <carol@good.test>").replace(/^Date: .*$/m, `Date: ${new Date().toUTCString()}`), "utf8");
  const dots = Buffer.from(
    `From: Carol <carol@good.test>\r\nTo: everyone@example.test\r\nSubject: Dots and spaces\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <dots.${Date.now()}@good.test>\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nline after a lone dot \r\n\r\n \r\nlast line\r\n`,
    "utf8",
  );
  return [fromCarol(generateMessage(3)), fromCarol(generateMessage(4)), fromCarol(generateMessage(5)), dots];
}

before(async () => {
  cert = await testCertificate();
  work = await mkdtemp(join(tmpdir(), "postline-imap-clients-"));
  install = await startInstallation({ env: tlsEnv(cert) });
  for (const a of [ACCOUNTS.curl, ACCOUNTS.fetchmail]) await createAccount(install.database.db, a);
  imap = await startImapService(install.env);
  delivered = [];
  for (const data of messagesToSend()) {
    const t = await smtpTransaction(install.mxPort, { from: "carol@good.test", to: Object.values(ACCOUNTS).map((a) => a.address), helo: "sender.good.test", data });
    assert.equal(t.final.code, 250, t.final.text);
    const rows = await waitFor(`message ${t.queueId} delivered`, async () => {
      const r = (await storedMessages(install)).filter((m) => m.mail_id === t.queueId);
      return r.length === 4 ? r : undefined;
    });
    assert.deepEqual(new Set(rows.map((r) => r.mailbox)), new Set(["INBOX"]), "delivered to the INBOXes, not Junk");
    const bytes = await readStored(install.blobs, rows[0]!);
    assert.ok(bytes.subarray(bytes.length - data.length).equals(data), "the stored message ends with the bytes sent");
    delivered.push(bytes);
  }
});

after(async () => {
  await imap?.process.stop();
  await install?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(cert.dir, { recursive: true, force: true });
});

test("imapflow over STARTTLS: LIST, SELECT, FETCH envelope/bodystructure/body, STORE, MOVE, EXPUNGE, APPEND", async () => {
  const { address, password } = ACCOUNTS.imapflow;
  const client = new ImapFlow({ host: "localhost", port: imap.imap, secure: false, doSTARTTLS: true, servername: "localhost", tls: { ca: [cert.cert], rejectUnauthorized: true }, auth: { user: address, pass: password }, logger: false, disableAutoIdle: true });
  await client.connect();
  try {
    const list = await client.list();
    const special = Object.fromEntries(list.filter((m) => m.specialUse && m.specialUse !== "\\Inbox").map((m) => [m.specialUse, m.path]));
    assert.deepEqual(special, { "\\Drafts": "Drafts", "\\Sent": "Sent", "\\Junk": "Junk", "\\Trash": "Trash", "\\Archive": "Archive" });
    assert.ok(list.some((m) => m.path === "INBOX"));

    const box = await client.mailboxOpen("INBOX");
    assert.equal(box.exists, delivered.length);
    const fetched = [];
    for await (const m of client.fetch("1:*", { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, size: true })) fetched.push(m);
    assert.equal(fetched.length, delivered.length);
    fetched.forEach((m, i) => {
      assert.ok(m.source!.equals(delivered[i]!), `message ${i + 1}: BODY[] is the delivered bytes`);
      assert.equal(m.size, delivered[i]!.length, "RFC822.SIZE");
      assert.deepEqual([...m.flags!], []);
    });
    const subject = (b: Buffer) => /^Subject: (.*)$/m.exec(b.toString("utf8"))![1]!;
    assert.equal(fetched[1]!.envelope!.subject, subject(delivered[1]!));
    assert.equal(fetched[3]!.envelope!.subject, "Dots and spaces");
    assert.deepEqual(fetched[3]!.envelope!.from, [{ name: "Carol", address: "carol@good.test" }]);
    // generateMessage(3) is plain text, (4) alternative, (5) mixed with a PDF attachment.
    assert.equal(fetched[0]!.bodyStructure!.type, "text/plain");
    assert.equal(fetched[1]!.bodyStructure!.type, "multipart/alternative");
    assert.deepEqual(fetched[1]!.bodyStructure!.childNodes!.map((p) => p.type), ["text/plain", "text/html"]);
    assert.equal(fetched[2]!.bodyStructure!.type, "multipart/mixed");
    const attachment = fetched[2]!.bodyStructure!.childNodes![1]!;
    assert.equal(attachment.type, "application/pdf");
    assert.equal(attachment.encoding, "base64");
    assert.equal(attachment.disposition, "attachment");
    // One part's body on its own, decoded by imapflow from base64: the bytes inside the MIME part.
    const part = await client.download(String(fetched[2]!.uid), attachment.part, { uid: true });
    const chunks: Buffer[] = [];
    for await (const c of part.content!) chunks.push(c as Buffer);
    const raw = delivered[2]!.toString("latin1");
    const b64 = raw.slice(raw.indexOf("\r\n\r\n", raw.indexOf("application/pdf")) + 4, raw.lastIndexOf("\r\n--mixed-"));
    assert.ok(Buffer.concat(chunks).equals(Buffer.from(b64.replace(/\r\n/g, ""), "base64")), "the attachment decodes to its bytes");

    const [uid1, uid2, uid3] = fetched.map((m) => m.uid);
    assert.ok(await client.messageFlagsAdd(String(uid1), ["\\Flagged", "$Important"], { uid: true }));
    const flagged = await client.fetchOne(String(uid1), { flags: true }, { uid: true });
    assert.ok(flagged && flagged.flags!.has("\\Flagged") && flagged.flags!.has("$Important"), "STORE +FLAGS committed");

    const moved = await client.messageMove(String(uid2), "Archive", { uid: true });
    assert.ok(moved && moved.destination === "Archive");
    const archivedUid = moved.uidMap!.get(uid2!)!;
    assert.ok(archivedUid > 0, "COPYUID/MOVE reports the new UID");

    assert.ok(await client.messageDelete(String(uid3), { uid: true }), "STORE \\Deleted + EXPUNGE");
    const left = [];
    for await (const m of client.fetch("1:*", { uid: true })) left.push(m.uid);
    assert.deepEqual(left, [uid1, fetched[3]!.uid], "the moved and the expunged message are gone from INBOX");

    const appended = await client.append("INBOX", delivered[1]!, ["\\Seen", "\\Draft"], new Date("2026-02-03T04:05:06Z"));
    assert.ok(appended && appended.uid! > fetched[3]!.uid, "APPENDUID gives a UID above the others");
    const back = await client.fetchOne(String(appended.uid), { source: true, flags: true, internalDate: true }, { uid: true });
    assert.ok(back && back.source!.equals(delivered[1]!), "the appended message reads back byte for byte");
    assert.deepEqual([...back.flags!].sort(), ["\\Draft", "\\Seen"]);
    assert.equal(new Date(back.internalDate!).toISOString(), "2026-02-03T04:05:06.000Z");

    await client.mailboxOpen("Archive");
    const inArchive = await client.fetchOne(String(archivedUid), { source: true }, { uid: true });
    assert.ok(inArchive && inArchive.source!.equals(delivered[1]!), "the moved message is in Archive, bytes intact");
  } finally {
    await client.logout();
  }
});

test("python3 imaplib over implicit TLS: LIST, SELECT, UID FETCH every body, UID STORE, SEARCH", async () => {
  const { address, password } = ACCOUNTS.imaplib;
  const out = join(work, "imaplib");
  await mkdir(out, { recursive: true });
  const script = join(import.meta.dirname, "support", "imaplib-session.py");
  const { stdout } = await run("python3", [script, "localhost", String(imap.imaps), address, password, cert.certPath, out], { timeout: 60_000 });
  const s = JSON.parse(stdout) as { capabilities: string[]; mailboxes: string[]; exists: number; uids: number[]; flags_after_store: string[]; flagged: number[] };
  assert.ok(s.capabilities.includes("IMAP4rev1"), s.capabilities.join(" "));
  assert.ok(s.mailboxes.some((m) => /\\Junk/.test(m) && /Junk/.test(m)), s.mailboxes.join("\n"));
  assert.equal(s.exists, delivered.length);
  assert.equal(s.uids.length, delivered.length);
  for (const [i, uid] of s.uids.entries()) assert.ok((await readFile(join(out, `${uid}.eml`))).equals(delivered[i]!), `UID ${uid} byte for byte`);
  assert.deepEqual(s.flags_after_store, ["\\Flagged"]);
  assert.deepEqual(s.flagged, [s.uids[0]]);
});

test("curl fetches one message over IMAPS and IMAP+STARTTLS, and over POP3S and POP3+STLS", async () => {
  const { address, password } = ACCOUNTS.curl;
  const select = await RawImap.connect({ port: imap.imaps, tls: "implicit", ca: cert.cert });
  assert.equal((await select.command(`LOGIN ${address} ${password}`)).status, "OK");
  assert.equal((await select.command("EXAMINE INBOX")).status, "OK");
  const search = await select.command("UID SEARCH ALL");
  const uids = search.untagged.flatMap((u) => (/^\* SEARCH (.*)/.exec(u.text)?.[1] ?? "").split(" ").filter(Boolean).map(Number));
  await select.logout();
  assert.equal(uids.length, delivered.length, JSON.stringify(search));
  assert.ok((await curl(`imaps://localhost:${imap.imaps}/INBOX;UID=${uids[3]}`, address, password, cert.certPath)).equals(delivered[3]!), "IMAPS, the dot message");
  assert.ok((await curl(`imap://localhost:${imap.imap}/INBOX;UID=${uids[1]}`, address, password, cert.certPath, ["--ssl-reqd"])).equals(delivered[1]!), "IMAP STARTTLS");
  // POP3 numbers the messages 1..n in UID order; RETR dot-stuffs, curl undoes it.
  assert.ok((await curl(`pop3s://localhost:${imap.pop3s}/4`, address, password, cert.certPath)).equals(delivered[3]!), "POP3S, the dot message");
  assert.ok((await curl(`pop3://localhost:${imap.pop3}/3`, address, password, cert.certPath, ["--ssl-reqd"])).equals(delivered[2]!), "POP3 STLS");
  const listing = (await curl(`pop3s://localhost:${imap.pop3s}/`, address, password, cert.certPath)).toString();
  assert.deepEqual(
    listing.trim().split(/\r?\n/).map((l) => l.split(" ").map(Number)),
    delivered.map((d, i) => [i + 1, d.length]),
    "LIST: the exact sizes",
  );
});

test("fetchmail over POP3S with keep, then over POP3+STLS without keep: every message byte for byte, then an empty maildrop", async () => {
  const { address, password } = ACCOUNTS.fetchmail;
  const options = { dir: join(work, "fetchmail"), user: address, password, certPath: cert.certPath };
  const kept = await fetchmail({ ...options, port: imap.pop3s, tls: "pop3s", keep: true });
  assert.equal(kept.length, delivered.length);
  kept.forEach((m, i) => assert.ok(m.equals(delivered[i]!), `message ${i + 1} byte for byte`));

  const taken = await fetchmail({ ...options, port: imap.pop3, tls: "stls", keep: false });
  assert.equal(taken.length, delivered.length, "kept messages are downloaded again with fetchall");
  taken.forEach((m, i) => assert.ok(m.equals(delivered[i]!), `message ${i + 1} byte for byte over STLS`));

  const again = await fetchmail({ ...options, port: imap.pop3s, tls: "pop3s", keep: true });
  assert.equal(again.length, 0, "DELE applied at QUIT: the maildrop is empty");
  const check = await RawImap.connect({ port: imap.imaps, tls: "implicit", ca: cert.cert });
  assert.equal((await check.command(`LOGIN ${address} ${password}`)).status, "OK");
  const selected = await check.command("SELECT INBOX");
  assert.ok(selected.untagged.some((u) => u.text === "* 0 EXISTS"), "IMAP sees the deletions too");
  await check.logout();
});
