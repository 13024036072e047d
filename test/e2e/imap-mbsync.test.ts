import assert from "node:assert/strict";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { mbsync, readMaildir, seedMailbox, startImapInstallation, type ImapInstallation } from "./support/mail-clients.ts";
import { generateMessage } from "./support/messages.ts";
import { RawImap } from "./support/raw-imap.ts";

// mbsync (isync) syncing a 1,000-message INBOX down to a Maildir and changes back up, against
// imap-pop3 in cluster mode. mbsync stores messages with LF line endings and adds an X-TUID header
// of its own at the end of the header (it finds its new files by it): the comparison undoes
// exactly those two things and nothing else.
const USER = { address: "sync@example.test", password: "sync-password-12" };
const COUNT = 1000;

let install: ImapInstallation;
let work: string;
let messages: Buffer[];
let uids: number[];

before(async () => {
  install = await startImapInstallation({ accounts: [USER] });
  work = await mkdtemp(join(tmpdir(), "postline-mbsync-"));
  messages = Array.from({ length: COUNT }, (_, i) => generateMessage(i + 1, 42));
  uids = await seedMailbox(install.database.db, install.blobs, USER.address, "INBOX", messages, 16);
});

after(async () => {
  await install?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The stored bytes as mbsync writes them to a Maildir: LF line endings. */
function asMaildir(b: Buffer): Buffer {
  return Buffer.from(b.toString("latin1").replace(/\r\n/g, "\n"), "latin1");
}

/** A Maildir file less the X-TUID line mbsync added as the header's last field. */
function withoutTuid(b: Buffer): Buffer {
  const s = b.toString("latin1");
  const end = s.indexOf("\n\n");
  const m = /\nX-TUID: [^\n]*$/.exec(s.slice(0, end));
  return m ? Buffer.concat([b.subarray(0, m.index), b.subarray(end)]) : b;
}

const uidOf = (name: string) => Number(/,U=(\d+)/.exec(name)?.[1]);

async function serverState(): Promise<Map<number, string[]>> {
  const c = await RawImap.connect({ port: install.services[0]!.imaps, tls: "implicit", ca: install.cert.cert });
  try {
    assert.equal((await c.command(`LOGIN ${USER.address} ${USER.password}`)).status, "OK");
    assert.equal((await c.command("EXAMINE INBOX")).status, "OK");
    const r = await c.command("UID FETCH 1:* (FLAGS)");
    assert.equal(r.status, "OK", r.text);
    const state = new Map<number, string[]>();
    for (const u of r.untagged) {
      const m = /^\* \d+ FETCH \((?=.*UID (\d+))(?=.*FLAGS \(([^)]*)\))/.exec(u.text);
      if (m) state.set(Number(m[1]), m[2]!.split(" ").filter(Boolean).sort());
    }
    return state;
  } finally {
    await c.logout();
  }
}

test("mbsync downloads 1,000 messages over IMAPS, each file the stored bytes; local flag and delete go up over STARTTLS", async () => {
  const port = install.services[0]!;
  const base = { dir: join(work, "mbsync"), user: USER.address, password: USER.password, certPath: install.cert.certPath };
  await mbsync({ ...base, port: port.imaps, tls: "IMAPS" });
  const inbox = join(work, "mbsync", "mail", "INBOX");
  const files = await readMaildir(inbox);
  assert.equal(files.length, COUNT);
  const byUid = new Map(uids.map((u, i) => [u, messages[i]!]));
  const seen = new Set<number>();
  for (const f of files) {
    const uid = uidOf(f.name);
    const original = byUid.get(uid);
    assert.ok(original, `${f.name}: a UID the server has`);
    assert.ok(withoutTuid(f.bytes).equals(asMaildir(original)), `${f.name}: the stored message`);
    seen.add(uid);
  }
  assert.equal(seen.size, COUNT, "every message once");

  // Locally: flag one message, delete another; on the server: a new message.
  const flagged = files.find((f) => uidOf(f.name) === uids[10])!;
  const deleted = files.find((f) => uidOf(f.name) === uids[500])!;
  await rename(flagged.path, flagged.path.replace(/:2,([A-Z]*)$/, (_, fl: string) => `:2,${[...new Set([...fl, "F"])].sort().join("")}`));
  await rm(deleted.path);
  const extra = generateMessage(5000, 42);
  const c = await RawImap.connect({ port: port.imap, tls: "starttls", ca: install.cert.cert });
  assert.equal((await c.command(`LOGIN ${USER.address} ${USER.password}`)).status, "OK");
  const appended = await c.command("APPEND INBOX ", extra);
  assert.equal(appended.status, "OK", appended.text);
  await c.logout();

  await mbsync({ ...base, port: port.imap, tls: "STARTTLS" });
  const state = await serverState();
  assert.equal(state.size, COUNT, "one expunged, one appended");
  assert.ok(!state.has(uids[500]!), "the message deleted locally was expunged on the server");
  assert.deepEqual(state.get(uids[10]!), ["\\Flagged"], "the local flag is on the server");
  assert.equal([...state.values()].filter((f) => f.includes("\\Flagged")).length, 1, "and on no other message");
  const after = await readMaildir(inbox);
  assert.equal(after.length, COUNT);
  const highest = Math.max(...uids);
  const newest = after.find((f) => uidOf(f.name) > highest);
  assert.ok(newest && withoutTuid(newest.bytes).equals(asMaildir(extra)), "the message appended on the server came down");
});
