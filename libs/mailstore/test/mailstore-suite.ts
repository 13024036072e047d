import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FsBlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import { addDomain, createAccount } from "@postline/directory";
import { newMailId, type MailClassified } from "@postline/events";
import {
  MailboxNotFound,
  appendMessage,
  appendMessageTx,
  blobGc,
  discardQuarantine,
  findMailboxByName,
  findMailboxBySpecialUse,
  finishRelease,
  contentOf,
  openContent,
  readContentRange,
  getQuarantine,
  listQuarantine,
  quarantineMessage,
  registerUnreferencedBlob,
  releaseQuarantine,
  removeMessages,
  type AppendInput,
  type CachedStructure,
} from "../src/index.ts";

const PASSWORD = "correct horse battery staple";
const STRUCTURE: CachedStructure = {
  envelope: { subject: "hello" },
  body: { type: "text", subtype: "plain" },
  search: { subject: "Hello", from: "a@example.org", to: "b@example.org", date: "2024-05-01T10:00:00.000Z", messageId: "<m1@example.org>" },
};

/** The mailstore's behaviour, run once against PostgreSQL and once against PGlite. */
export function mailstoreSuite(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  describe(name, () => {
    let db: Db;
    let close: () => Promise<void>;
    let blobsDir: string;
    let blobs: FsBlobStore;
    let domainCount = 0;

    before(async () => {
      ({ db, close } = await open());
      blobsDir = await mkdtemp(join(tmpdir(), "mailstore-"));
      blobs = await FsBlobStore.open(blobsDir);
    });
    after(async () => {
      await close();
      await rm(blobsDir, { recursive: true, force: true });
    });

    /** A fresh account with its default mailboxes. */
    async function account(quotaBytes: number | null = null) {
      const domain = `d${++domainCount}.example`;
      await addDomain(db, domain);
      const a = await createAccount(db, { address: `user@${domain}`, password: PASSWORD, quotaBytes });
      const inbox = (await findMailboxByName(db, a.id, "INBOX"))!;
      return { accountId: a.id, mailboxId: inbox.id };
    }

    async function putBlob(content: string) {
      const ref = await blobs.put(Buffer.from(content));
      return { key: ref.key, size: ref.size };
    }

    const input = (target: { accountId: number; mailboxId: number }, blob: AppendInput["blob"], extra: Partial<AppendInput> = {}): AppendInput => ({
      ...target,
      blob,
      internalDate: new Date("2024-05-01T10:00:05Z"),
      structure: STRUCTURE,
      ...extra,
    });

    const blobRow = async (key: string) =>
      (await db.query<{ refcount: number; unreferenced_at: Date | null }>("SELECT refcount, unreferenced_at FROM blobs WHERE hash = $1", [key])).rows[0];
    const collectedAt = async (key: string) =>
      (await db.query<{ collected_at: Date | null }>("SELECT collected_at FROM blobs WHERE hash = $1", [key])).rows[0]?.collected_at;
    const usedBytes = async (accountId: number) =>
      (await db.query<{ used_bytes: number }>("SELECT used_bytes FROM accounts WHERE id = $1", [accountId])).rows[0]!.used_bytes;
    const mailboxRow = async (id: number) =>
      (await db.query<{ uidnext: number; highestmodseq: number }>("SELECT uidnext, highestmodseq FROM mailboxes WHERE id = $1", [id])).rows[0]!;

    test("mailbox helpers: INBOX by any case, special use", async () => {
      const t = await account();
      assert.equal((await findMailboxByName(db, t.accountId, "inbox"))!.id, t.mailboxId);
      assert.equal((await findMailboxByName(db, t.accountId, "Sent"))!.specialUse, "\\Sent");
      assert.equal(await findMailboxByName(db, t.accountId, "sent"), null, "other names are case-sensitive");
      const junk = (await findMailboxBySpecialUse(db, t.accountId, "\\Junk"))!;
      assert.deepEqual([junk.name, junk.accountId], ["Junk", t.accountId]);
      assert.equal(await findMailboxBySpecialUse(db, t.accountId, "\\Flagged"), null);
    });

    test("append: ascending UIDs and modseqs, cached columns, blob reference, usage", async () => {
      const t = await account();
      const blob = await putBlob("Subject: Hello\r\n\r\nbody\r\n");
      const before = await mailboxRow(t.mailboxId);
      const first = await appendMessage(db, input(t, blob, { flags: ["\\Seen"], mailId: newMailId() }));
      const second = await appendMessage(db, input(t, blob));
      assert.deepEqual([first.uid, second.uid], [1, 2]);
      assert.equal(first.modseq, before.highestmodseq + 1);
      assert.equal(second.modseq, first.modseq + 1);
      assert.deepEqual([first.duplicate, first.blobCollected, second.blobCollected], [false, false, false]);
      assert.deepEqual(await mailboxRow(t.mailboxId), { uidnext: 3, highestmodseq: second.modseq });

      const row = (
        await db.query<Record<string, unknown>>(
          "SELECT uid, flags, size, blob_hash, envelope, bodystructure, subject, from_addr, to_addr, sent_date, header_message_id, internal_date FROM messages WHERE id = $1",
          [first.messageId],
        )
      ).rows[0]!;
      assert.deepEqual(row.flags, ["\\Seen"]);
      assert.equal(row.size, blob.size);
      assert.equal(row.blob_hash, blob.key);
      assert.deepEqual(row.envelope, STRUCTURE.envelope);
      assert.deepEqual(row.bodystructure, STRUCTURE.body);
      assert.deepEqual([row.subject, row.from_addr, row.to_addr, row.header_message_id], ["Hello", "a@example.org", "b@example.org", "<m1@example.org>"]);
      assert.equal((row.sent_date as Date).toISOString(), "2024-05-01T10:00:00.000Z");
      assert.equal((row.internal_date as Date).toISOString(), "2024-05-01T10:00:05.000Z");

      assert.equal((await blobRow(blob.key))!.refcount, 2);
      assert.equal(await usedBytes(t.accountId), 2 * blob.size);
    });

    test("append behind a header prefix: the row keeps the prefix, the message's size counts it, the blob's row its own size", async () => {
      const t = await account();
      const blob = await putBlob("Subject: Hello\r\n\r\nbody\r\n");
      const prefix = Buffer.from("Return-Path: <a@example.org>\r\nX-Postline-Spam: deliver, score=0.0, symbols=\r\n");
      const size = prefix.length + blob.size;
      const r = await appendMessage(db, input(t, { ...blob, size, prefix }, { mailId: newMailId() }));
      const row = (await db.query<{ size: number; header_prefix: Uint8Array }>("SELECT size, header_prefix FROM messages WHERE id = $1", [r.messageId])).rows[0]!;
      assert.equal(Number(row.size), size);
      assert.deepEqual(contentOf(blob.key, row.header_prefix).prefix, prefix);
      assert.equal(Number((await db.query<{ size: number }>("SELECT size FROM blobs WHERE hash = $1", [blob.key])).rows[0]!.size), blob.size);
      assert.equal(await usedBytes(t.accountId), size);

      // What readers serve: the prefix, then the blob, for the whole message and any range of it.
      const content = { blobKey: blob.key, prefix };
      const whole = Buffer.concat([prefix, Buffer.from("Subject: Hello\r\n\r\nbody\r\n")]);
      const chunks: Buffer[] = [];
      for await (const c of await openContent(blobs, content)) chunks.push(c as Buffer);
      assert.deepEqual(Buffer.concat(chunks), whole);
      for (const [start, end] of [[0, 5], [0, prefix.length], [3, prefix.length + 4], [prefix.length, size], [prefix.length + 2, size - 1], [0, size], [7, 7]] as const) {
        assert.deepEqual(await readContentRange(blobs, content, start, end), whole.subarray(start, end), `[${start}, ${end})`);
      }
      assert.deepEqual(await readContentRange(blobs, { blobKey: blob.key, prefix: null }, 2, 9), whole.subarray(prefix.length + 2, prefix.length + 9));
    });

    test("append to a mailbox of another account: MailboxNotFound, nothing changes", async () => {
      const a = await account();
      const b = await account();
      const blob = await putBlob("Subject: not yours\r\n\r\n");
      await assert.rejects(appendMessage(db, input({ accountId: b.accountId, mailboxId: a.mailboxId }, blob)), MailboxNotFound);
      assert.equal(await blobRow(blob.key), undefined);
      assert.equal((await mailboxRow(a.mailboxId)).uidnext, 1);
    });

    test("appendMessageTx in the caller's transaction: a missing mailbox leaves it usable; a rollback undoes every append", async () => {
      const t = await account();
      const other = await account();
      const blob = await putBlob(`Subject: tx ${Math.random()}\r\n\r\n`);
      const uids = await db.transaction(async (tx) => {
        const a = await appendMessageTx(tx, input(t, blob));
        await assert.rejects(appendMessageTx(tx, input({ accountId: other.accountId, mailboxId: t.mailboxId }, blob)), MailboxNotFound);
        const b = await appendMessageTx(tx, input(t, blob, { mailId: newMailId() }));
        return [a.uid, b.uid];
      });
      assert.deepEqual(uids, [1, 2]);
      assert.equal((await blobRow(blob.key))!.refcount, 2);
      assert.equal(await usedBytes(t.accountId), 2 * blob.size);

      await assert.rejects(
        db.transaction(async (tx) => {
          assert.equal((await appendMessageTx(tx, input(t, blob))).uid, 3);
          throw new Error("abandoned");
        }),
        /abandoned/,
      );
      assert.equal((await mailboxRow(t.mailboxId)).uidnext, 3);
      assert.equal((await blobRow(blob.key))!.refcount, 2);
      assert.equal(await usedBytes(t.accountId), 2 * blob.size);
    });

    test("append without search fields, with an unparsable date and no flags: NULL columns, no flags", async () => {
      const t = await account();
      const blob = await putBlob(`Subject: bare ${Math.random()}\r\n\r\n`);
      const r = await appendMessage(db, input(t, blob, { structure: { envelope: null, body: null, search: { date: "not a date" } } }));
      const row = (
        await db.query<Record<string, unknown>>(
          "SELECT flags, mail_id, envelope, bodystructure, subject, from_addr, to_addr, cc_addr, bcc_addr, sent_date, header_message_id FROM messages WHERE id = $1",
          [r.messageId],
        )
      ).rows[0]!;
      assert.deepEqual(row, {
        flags: [],
        mail_id: null,
        envelope: null,
        bodystructure: null,
        subject: null,
        from_addr: null,
        to_addr: null,
        cc_addr: null,
        bcc_addr: null,
        sent_date: null,
        header_message_id: null,
      });
    });

    test("idempotent per (mailbox, mail id): a repeat returns the first copy and burns no UID", async () => {
      const t = await account();
      const blob = await putBlob("Subject: once\r\n\r\n");
      const mailId = newMailId();
      const first = await appendMessage(db, input(t, blob, { mailId }));
      const state = await mailboxRow(t.mailboxId);
      const again = await appendMessage(db, input(t, blob, { mailId }));
      assert.deepEqual(again, { ...first, duplicate: true, blobCollected: false });
      assert.deepEqual(await mailboxRow(t.mailboxId), state);
      assert.equal((await blobRow(blob.key))!.refcount, 1);
      assert.equal(await usedBytes(t.accountId), blob.size);

      // The same mail id in another mailbox is another copy.
      const junk = (await findMailboxBySpecialUse(db, t.accountId, "\\Junk"))!;
      const other = await appendMessage(db, input({ accountId: t.accountId, mailboxId: junk.id }, blob, { mailId }));
      assert.deepEqual([other.uid, other.duplicate], [1, false]);
      assert.equal((await blobRow(blob.key))!.refcount, 2);
    });

    test("20 concurrent appends to one mailbox: UIDs 1..20, never repeated, ascending in commit order", async () => {
      const t = await account();
      const blob = await putBlob("Subject: race\r\n\r\n");
      const results = await Promise.all(Array.from({ length: 20 }, () => appendMessage(db, input(t, blob, { mailId: newMailId() }))));
      assert.deepEqual(
        results.map((r) => r.uid).sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      assert.equal(new Set(results.map((r) => r.modseq)).size, 20);
      const rows = (await db.query<{ uid: number; modseq: number }>("SELECT uid, modseq FROM messages WHERE mailbox_id = $1 ORDER BY id", [t.mailboxId])).rows;
      // Row ids come from a sequence in insert order; UIDs and modseqs follow the same order.
      for (let i = 1; i < rows.length; i++) {
        assert.ok(rows[i]!.uid > rows[i - 1]!.uid, "UIDs ascend");
        assert.ok(rows[i]!.modseq > rows[i - 1]!.modseq, "modseqs ascend");
      }
      assert.equal((await blobRow(blob.key))!.refcount, 20);
      assert.equal(await usedBytes(t.accountId), 20 * blob.size);
      assert.equal((await mailboxRow(t.mailboxId)).uidnext, 21);
    });

    test("10 concurrent appends of one mail id: one copy, one UID", async () => {
      const t = await account();
      const blob = await putBlob("Subject: redelivered\r\n\r\n");
      const mailId = newMailId();
      const results = await Promise.all(Array.from({ length: 10 }, () => appendMessage(db, input(t, blob, { mailId }))));
      assert.equal(results.filter((r) => !r.duplicate).length, 1);
      assert.equal(new Set(results.map((r) => r.uid)).size, 1);
      assert.equal((await mailboxRow(t.mailboxId)).uidnext, 2);
      assert.equal((await blobRow(blob.key))!.refcount, 1);
      assert.equal(await usedBytes(t.accountId), blob.size);
    });

    test("expunge: rows gone, vanished at a new modseq, references and usage given back", async () => {
      const t = await account();
      const shared = await putBlob("Subject: shared\r\n\r\n");
      const own = await putBlob("Subject: own\r\n\r\nlonger body\r\n");
      const a = await appendMessage(db, input(t, shared, { mailId: newMailId() }));
      const b = await appendMessage(db, input(t, shared));
      const c = await appendMessage(db, input(t, own));
      assert.equal(await usedBytes(t.accountId), 2 * shared.size + own.size);

      const r = await removeMessages(db, { accountId: t.accountId, mailboxId: t.mailboxId, uids: [a.uid, c.uid, 999] });
      assert.deepEqual(
        r.expunged.map((e) => [e.uid, e.size]),
        [
          [a.uid, shared.size],
          [c.uid, own.size],
        ],
      );
      assert.equal(r.modseq, c.modseq + 1);
      assert.equal((await mailboxRow(t.mailboxId)).highestmodseq, r.modseq);
      assert.equal(await usedBytes(t.accountId), shared.size);
      assert.deepEqual(await blobRow(shared.key), { refcount: 1, unreferenced_at: null });
      const ownRow = (await blobRow(own.key))!;
      assert.equal(ownRow.refcount, 0);
      assert.ok(ownRow.unreferenced_at instanceof Date);
      const vanished = (await db.query<{ uid: number; modseq: number }>("SELECT uid, modseq FROM expunged_messages WHERE mailbox_id = $1 ORDER BY uid", [t.mailboxId])).rows;
      assert.deepEqual(vanished, [
        { uid: a.uid, modseq: r.modseq },
        { uid: c.uid, modseq: r.modseq },
      ]);
      const left = (await db.query<{ uid: number }>("SELECT uid FROM messages WHERE mailbox_id = $1", [t.mailboxId])).rows;
      assert.deepEqual(left, [{ uid: b.uid }]);

      // Nothing to remove: no new modseq.
      const none = await removeMessages(db, { accountId: t.accountId, mailboxId: t.mailboxId, uids: [a.uid] });
      assert.deepEqual(none, { expunged: [], modseq: r.modseq });
      await assert.rejects(removeMessages(db, { accountId: t.accountId + 1000, mailboxId: t.mailboxId, uids: [b.uid] }), MailboxNotFound);
      // A new append after the expunge never reuses a UID.
      assert.equal((await appendMessage(db, input(t, own))).uid, c.uid + 1);
    });

    test("blob collection: only unreferenced past the grace period, from the store and the table", async () => {
      const t = await account();
      const old = await putBlob(`Subject: old ${Math.random()}\r\n\r\n`);
      const freshContent = `Subject: fresh ${Math.random()}\r\n\r\n`;
      const fresh = await putBlob(freshContent);
      const kept = await putBlob(`Subject: kept ${Math.random()}\r\n\r\n`);
      const revived = await putBlob(`Subject: revived ${Math.random()}\r\n\r\n`);
      for (const b of [old, revived]) {
        const m = await appendMessage(db, input(t, b));
        await removeMessages(db, { accountId: t.accountId, mailboxId: t.mailboxId, uids: [m.uid] });
      }
      await registerUnreferencedBlob(db, fresh);
      await appendMessage(db, input(t, kept));
      await db.query("UPDATE blobs SET unreferenced_at = now() - interval '2 hours' WHERE hash = ANY($1::text[])", [[old.key, revived.key]]);
      // Referenced again after it became unreferenced: not collected.
      const again = await appendMessage(db, input(t, revived));
      assert.equal(again.blobCollected, false);

      const r = await blobGc(db, blobs, 60 * 60 * 1000);
      assert.deepEqual(r.deleted, [old.key]);
      assert.equal(await blobs.stat(old.key), null);
      const tombstone = await collectedAt(old.key);
      assert.ok(tombstone instanceof Date, "a collected blob's row stays, as a tombstone");
      for (const b of [fresh, kept, revived]) assert.ok(await blobs.stat(b.key), "still stored");
      assert.deepEqual(await blobGc(db, blobs, 60 * 60 * 1000), { deleted: [] });
      // With no grace the freshly unreferenced one goes too.
      assert.deepEqual((await blobGc(db, blobs, 0)).deleted.includes(fresh.key), true);
      // New content is never reported as collected: no store check for the common append.
      const fresh2 = await putBlob(`Subject: new ${Math.random()}\r\n\r\n`);
      assert.equal((await appendMessage(db, input(t, fresh2))).blobCollected, false);
      // Collected content referenced again: reported, so the caller stores it again; the row is live.
      const back = await appendMessage(db, input(t, old));
      assert.equal(back.blobCollected, true);
      assert.deepEqual([(await blobRow(old.key))!.refcount, await collectedAt(old.key)], [1, null]);
      // A collected blob put again without a reference (the same message received again) is
      // registered for collection again.
      assert.ok(await collectedAt(fresh.key));
      assert.equal((await blobs.put(Buffer.from(freshContent))).key, fresh.key);
      await registerUnreferencedBlob(db, fresh);
      assert.equal(await collectedAt(fresh.key), null);
      assert.equal((await blobRow(fresh.key))!.refcount, 0);
      // Tombstones go after tombstoneMs.
      const r2 = await blobGc(db, blobs, 0);
      assert.ok(r2.deleted.includes(fresh.key));
      await blobGc(db, blobs, 60 * 60 * 1000, { tombstoneMs: 0 });
      assert.equal(await blobRow(fresh.key), undefined);
    });

    // Against a server only: PGlite runs inside this process and reads the same Date.now().
    if (!name.includes("PGlite")) test("blob collection goes by the database's clock: a client clock behind it changes nothing", async () => {
      const blob = await putBlob(`Subject: skew ${Math.random()}\r\n\r\n`);
      await registerUnreferencedBlob(db, blob);
      const realNow = Date.now;
      Date.now = () => realNow() - 60_000;
      try {
        assert.ok((await blobGc(db, blobs, 0)).deleted.includes(blob.key), "collected with no grace");
        await blobGc(db, blobs, 60 * 60 * 1000, { tombstoneMs: 0 });
      } finally {
        Date.now = realNow;
      }
      assert.equal(await blobRow(blob.key), undefined, "tombstone gone with tombstoneMs 0");
    });

    test("quarantine: holds a blob reference, release gives the event, discard gives the reference back", async () => {
      const blob = await putBlob(`Subject: spam ${Math.random()}\r\n\r\n`);
      const event = classified(blob, "quarantine");
      assert.deepEqual(await quarantineMessage(db, event, { subject: "spam", from: "x@spam.example" }), { created: true });
      assert.deepEqual(await quarantineMessage(db, event), { created: false }, "idempotent");
      assert.equal((await blobRow(blob.key))!.refcount, 1);
      await registerUnreferencedBlob(db, blob);
      assert.equal((await blobRow(blob.key))!.refcount, 1, "registering leaves a referenced row alone");

      const entry = (await getQuarantine(db, event.id))!;
      assert.deepEqual([entry.subject, entry.from, entry.action, entry.recipients, entry.releasedAt], ["spam", "x@spam.example", "quarantine", ["rcpt@q.example"], null]);
      assert.ok((await listQuarantine(db)).some((e) => e.mailId === event.id));
      assert.ok((await listQuarantine(db, { recipient: "RCPT@q.example" })).some((e) => e.mailId === event.id));
      assert.ok(!(await listQuarantine(db, { status: "released" })).some((e) => e.mailId === event.id));

      const released = (await releaseQuarantine(db, event.id, "alice"))!;
      assert.equal(released.event.verdict.action, "deliver");
      assert.deepEqual(
        released.event.verdict.symbols.map((s) => s.name),
        ["BAD", "QUARANTINE_RELEASED"],
      );
      assert.equal(released.entry.releasedBy, "alice");
      const again = (await releaseQuarantine(db, event.id, "bob"))!;
      assert.equal(again.entry.releasedBy, "alice", "the first release is kept");
      assert.equal(again.event.verdict.symbols.length, 2);
      assert.equal(await discardQuarantine(db, event.id), "release_pending");
      await finishRelease(db, event.id);
      await finishRelease(db, event.id);
      assert.equal((await blobRow(blob.key))!.refcount, 0);
      assert.equal(await discardQuarantine(db, event.id), "discarded");

      const other = classified(await putBlob(`Subject: reject ${Math.random()}\r\n\r\n`), "reject");
      await quarantineMessage(db, other);
      assert.equal(await discardQuarantine(db, other.id), "discarded");
      assert.equal((await blobRow(other.blob.key))!.refcount, 0);
      assert.equal(await discardQuarantine(db, other.id), "not_found");
      assert.equal(await releaseQuarantine(db, other.id, "x"), null);
    });
  });
}

function classified(blob: { key: string; size: number }, action: "quarantine" | "reject"): MailClassified {
  return {
    v: 1,
    id: newMailId(),
    blob: { key: blob.key, sha256: blob.key, size: blob.size },
    envelope: { mailFrom: "x@spam.example", rcptTo: ["rcpt@q.example"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "192.0.2.1", helo: "spam.example", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
    source: "inbound",
    verdict: { action, score: 12, symbols: [{ name: "BAD", score: 12 }], authResults: "mx.example; spf=fail" },
  };
}
