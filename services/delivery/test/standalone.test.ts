import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { addAlias, addDomain, createAccount } from "@postline/directory";
import { eventually, startHarness, storedBytes, type Harness } from "./harness.ts";

// Standalone mode's adapters: PGlite (one connection), the embedded bus in it, files for blobs.
let h: Harness;
before(async () => {
  h = await startHarness({}, { pglite: true });
  await addDomain(h.t.db, "solo.test");
  await createAccount(h.t.db, { address: "ann@solo.test", password: "correct horse battery staple" });
  await createAccount(h.t.db, { address: "ben@solo.test", password: "correct horse battery staple" });
  await addAlias(h.t.db, "all@solo.test", "ann@solo.test");
  await addAlias(h.t.db, "all@solo.test", "ben@solo.test");
});
after(() => h.close());

test("on PGlite: 20 messages to an alias of two accounts, concurrently; each once per INBOX with ascending UIDs", async () => {
  const raw = (i: number) => `From: x@remote.example\r\nSubject: solo ${i}\r\nMessage-ID: <solo${i}@remote.example>\r\n\r\nbody ${i}\r\n`;
  const events = await Promise.all(Array.from({ length: 20 }, (_, i) => h.send(raw(i), { rcptTo: ["all@solo.test"] })));
  await h.drained();
  await Promise.all(events.map((e) => h.publish(e)));
  await h.drained();
  const rows = (
    await h.t.db.query<{ address: string; uid: number; mail_id: string; blob_hash: string; header_prefix: Uint8Array | null; size: number }>(
      `SELECT a.address, m.uid, m.mail_id, m.blob_hash, m.header_prefix, m.size FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
        WHERE b.name = 'INBOX' ORDER BY a.address, m.uid`,
    )
  ).rows;
  assert.equal(rows.length, 40);
  for (const address of ["ann@solo.test", "ben@solo.test"]) {
    const mine = rows.filter((r) => r.address === address);
    assert.deepEqual(mine.map((r) => r.uid), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(new Set(mine.map((r) => r.mail_id)).size, 20);
  }
  const first = rows[0]!;
  const stored = await storedBytes(h.blobs, first);
  assert.equal(stored.length, first.size);
  assert.ok(stored.toString().startsWith("Return-Path: <sender@remote.example>\r\nX-Postline-Spam: deliver"));
  await eventually(async () => h.changes.length >= 40, "40 mailbox.changed events");
});
