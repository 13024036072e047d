/**
 * The cheap paths of the selected state: the view's sync after ordinary commands reads the store
 * only when a change was notified (or its last read is older than a second), and whole small
 * messages are served from the process's message cache.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { BlobNotFoundError } from "@postline/blobstore";
import type { MessageContent } from "@postline/mailstore";
import type { FetchAttribute } from "../src/imap/protocol/types.ts";
import { expungeOp } from "../src/imap/server/op/expunge.ts";
import { fetchOp } from "../src/imap/server/op/fetch.ts";
import { selectOp } from "../src/imap/server/op/select.ts";
import { storeOp } from "../src/imap/server/op/store.ts";
import { BlobCache } from "../src/imap/server/fetch/blob-cache.ts";
import { createHarness, seqSet, textMessage, type Harness, type Session } from "./imap-selected-harness.ts";

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

const select = (s: Session, mailbox: string) => s.run(selectOp, { name: "SELECT", mailbox, condstore: false });
/** The sync after an ordinary command (FETCH, SEARCH, …), as the session runs it. */
const lazySync = async (s: Session, expunges: boolean) => {
  await s.ctx.selected!.sync(s.out, { expunges, ifChanged: true });
  return s.out.take().toString();
};
/** NOOP's sync: always reads the store. */
const freshSync = async (s: Session) => {
  await s.ctx.selected!.sync(s.out, { expunges: true });
  return s.out.take().toString();
};
const peek: FetchAttribute = { kind: "BODY[]", section: { part: [] }, peek: true };
const fetchBody = (s: Session, uid: number) => s.run(fetchOp, { name: "FETCH", uid: true, set: seqSet(String(uid)), attributes: [peek] });

describe("the view's sync", () => {
  test("after an ordinary command it reads the store only for a notified change; NOOP always reads", async () => {
    const s = h.session(["IMAP4REV2"]);
    await select(s, "Drafts");
    const mailboxId = await h.mailboxId("Drafts");

    // Stored without a notification (as if the bus lost it): an ordinary command does not look yet...
    await h.deliver(textMessage("quiet", "x\r\n"), { mailbox: "Drafts" });
    assert.equal(await lazySync(s, true), "");
    // ...NOOP does.
    assert.equal(await freshSync(s), "* 1 EXISTS\r\n");

    // A notified change is read at the next ordinary command.
    const { uid } = await h.deliver(textMessage("loud", "x\r\n"), { mailbox: "Drafts" });
    await h.notifier.announce([{ accountId: h.accountId, mailboxId, uid, modseq: 0, kind: "append" }]);
    assert.equal(await lazySync(s, false), "* 2 EXISTS\r\n");
    assert.equal(await lazySync(s, true), "");
  });

  test("a change nobody announced is still reported once the last read is a second old", async () => {
    const s = h.session(["IMAP4REV2"]);
    await select(s, "Sent");
    await h.deliver(textMessage("late", "x\r\n"), { mailbox: "Sent" });
    assert.equal(await lazySync(s, true), "");
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal(await lazySync(s, true), "* 1 EXISTS\r\n");
  });

  test("expunges held back during FETCH are written by the next command that allows them, with nothing new to read", async () => {
    const a = h.session(["IMAP4REV2"]);
    const b = h.session(["IMAP4REV2"]);
    await h.deliver(textMessage("e1", "x\r\n"), { mailbox: "Trash" });
    await h.deliver(textMessage("e2", "x\r\n"), { mailbox: "Trash" });
    await select(a, "Trash");
    await select(b, "Trash");
    await b.run(storeOp, { name: "STORE", uid: false, set: seqSet("1"), action: "add", silent: true, flags: ["\\Deleted"] });
    await b.run(expungeOp, { name: "EXPUNGE", uid: false });
    // a's FETCH-time sync learns of it but may not say so (RFC 9051 7.5.1)...
    assert.equal(await lazySync(a, false), "");
    assert.equal(a.ctx.selected!.exists, 2);
    // ...and its next command says it without another notification.
    assert.equal(await lazySync(a, true), "* 1 EXPUNGE\r\n");
    assert.equal(a.ctx.selected!.exists, 1);
  });
});

describe("VANISHED (EARLIER) of UID FETCH", () => {
  test("`1:*` reaches an expunged highest UID (as Dovecot: `*` is UIDNEXT-1)", async () => {
    const s = h.session(["QRESYNC"]);
    const other = h.session();
    const low = await h.deliver(textMessage("v1", "x\r\n"), { mailbox: "Archive" });
    const high = await h.deliver(textMessage("v2", "x\r\n"), { mailbox: "Archive" });
    const sel = await select(s, "Archive");
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.text)![1]);
    await select(other, "Archive");
    await other.run(storeOp, { name: "STORE", uid: true, set: seqSet(`${high.uid}`), action: "add", silent: true, flags: ["\\Deleted"] });
    await other.run(expungeOp, { name: "EXPUNGE", uid: false });
    assert.match(await freshSync(s), new RegExp(`^\\* VANISHED ${high.uid}\r\n$`));
    const r = await s.run(fetchOp, { name: "FETCH", uid: true, set: seqSet("1:*"), attributes: [{ kind: "FLAGS" }], changedSince: modseq, vanished: true });
    assert.match(r.text, new RegExp(`^\\* VANISHED \\(EARLIER\\) ${high.uid}\r\n`));
    assert.ok(high.uid > low.uid);
  });
});

describe("the message cache", () => {
  test("a body fetched once is served from memory, even after its blob is gone", async () => {
    const s = h.session();
    const raw = textMessage("cached", `${randomBytes(2000).toString("hex")}\r\n`);
    const { uid, key } = await h.deliver(raw, { mailbox: "Archive" });
    await select(s, "Archive");
    const first = await fetchBody(s, uid);
    assert.equal(first.result.status, "OK");
    assert.ok(first.raw.includes(Buffer.from(raw)));
    await h.blobs.delete(key);
    const second = await fetchBody(s, uid);
    assert.equal(second.result.status, "OK");
    assert.deepEqual(second.raw, first.raw);
  });

  test("a missing blob fails the FETCH before its literal is announced", async () => {
    const s = h.session();
    const { uid, key } = await h.deliver(textMessage("gone", `${randomBytes(500).toString("hex")}\r\n`), { mailbox: "Junk" });
    await select(s, "Junk");
    await h.blobs.delete(key);
    await assert.rejects(fetchBody(s, uid), BlobNotFoundError);
    // Nothing of the response went out: the session's NO [SERVERBUG] is not read as literal bytes.
    assert.equal(s.out.take().length, 0);
  });

  test("a listed message expunged elsewhere, its blob gone: the download answers OK without it", async () => {
    const a = h.session();
    const b = h.session();
    const raw = textMessage("vanishing", `${randomBytes(300).toString("hex")}\r\n`);
    const { uid, key } = await h.deliver(raw, { mailbox: "INBOX" });
    await select(a, "INBOX");
    await select(b, "INBOX");
    // The listing puts the message's size and blob in the process's metadata cache.
    const listed = await a.run(fetchOp, { name: "FETCH", uid: true, set: seqSet("1:*"), attributes: [{ kind: "FLAGS" }, { kind: "ENVELOPE" }] });
    assert.match(listed.text, new RegExp(`UID ${uid} FLAGS`));
    await b.run(storeOp, { name: "STORE", uid: true, set: seqSet(String(uid)), action: "add", silent: true, flags: ["\\Deleted"] });
    await b.run(expungeOp, { name: "EXPUNGE", uid: false });
    await h.blobs.delete(key);
    const r = await fetchBody(a, uid);
    assert.equal(r.result.status, "OK");
    assert.doesNotMatch(r.text, /FETCH \(/);
  });

  test("bounded in octets, least recently used first out; one read for concurrent misses", async () => {
    const cache = new BlobCache(40_000);
    const blobs = await Promise.all([1, 2, 3, 4, 5].map((i) => h.blobs.put(Buffer.alloc(9000, 48 + i))));
    type Five = [MessageContent, MessageContent, MessageContent, MessageContent, MessageContent];
    const [a, b, c, d, e] = blobs.map((r): MessageContent => ({ blobKey: r.key, prefix: null })) as Five;
    const [p1, p2] = [cache.whole(h.blobs, a, 9000), cache.whole(h.blobs, a, 9000)];
    assert.equal(await p1, await p2, "the same buffer: one read");
    for (const k of [b, c, d]) await cache.whole(h.blobs, k, 9000);
    await cache.whole(h.blobs, a, 9000); // a is now the most recently used
    await cache.whole(h.blobs, e, 9000); // 45,000 octets: b goes
    assert.deepEqual(cache.size, { entries: 4, bytes: 36_000 });
    for (const k of [a, b, c, d, e]) await h.blobs.delete(k.blobKey);
    for (const k of [a, c, d, e]) assert.equal((await cache.whole(h.blobs, k, 9000)).length, 9000);
    await assert.rejects(cache.whole(h.blobs, b, 9000), BlobNotFoundError);
    // The same blob behind a header prefix is another message: an entry of its own, prefix first.
    const prefix = Buffer.from("X-Postline-Spam: deliver, score=0.0, symbols=\r\n");
    const f = (await h.blobs.put(Buffer.alloc(9000, 54))).key;
    assert.deepEqual(await cache.whole(h.blobs, { blobKey: f, prefix }, 9000 + prefix.length), Buffer.concat([prefix, Buffer.alloc(9000, 54)]));
    assert.deepEqual(await cache.whole(h.blobs, { blobKey: f, prefix: null }, 9000), Buffer.alloc(9000, 54));
    // e is cached without a prefix (its blob deleted since): with one, it is not that entry.
    assert.equal((await cache.whole(h.blobs, e, 9000)).length, 9000);
    await assert.rejects(cache.whole(h.blobs, { blobKey: e.blobKey, prefix }, 9000 + prefix.length), BlobNotFoundError);
    // Too big for the cache: read, not kept.
    assert.equal(cache.fits(10_001), false);
    cache.resize(0);
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
  });
});
