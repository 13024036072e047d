import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { closeOp, unselectOp } from "../src/imap/server/op/close.ts";
import { copyOp, moveOp } from "../src/imap/server/op/copy-move.ts";
import { expungeOp } from "../src/imap/server/op/expunge.ts";
import { fetchOp } from "../src/imap/server/op/fetch.ts";
import { selectOp } from "../src/imap/server/op/select.ts";
import { storeOp } from "../src/imap/server/op/store.ts";
import { createHarness, seqSet, textMessage, type Harness, type Session } from "./imap-selected-harness.ts";

let h: Harness;
before(async () => {
  h = await createHarness();
});
after(async () => {
  await h.close();
});

const select = (s: Session, mailbox: string, extra: Partial<{ condstore: boolean; qresync: { uidValidity: number; modseq: number } }> = {}) =>
  s.run(selectOp, { name: "SELECT", mailbox, condstore: extra.condstore ?? false, ...(extra.qresync ? { qresync: extra.qresync } : {}) });
const store = (s: Session, set: string, action: "set" | "add" | "remove", flags: string[], more: { uid?: boolean; silent?: boolean; unchangedSince?: number } = {}) =>
  s.run(storeOp, { name: "STORE", uid: more.uid ?? false, set: seqSet(set), action, silent: more.silent ?? false, flags, ...(more.unchangedSince !== undefined ? { unchangedSince: more.unchangedSince } : {}) });
const noopSync = async (s: Session, expunges: boolean) => {
  await s.ctx.selected!.sync(s.out, { expunges });
  return s.out.take().toString();
};

describe("SELECT and EXAMINE", () => {
  test("a mailbox's state, read-write and read-only, CLOSED, NONEXISTENT", async () => {
    await h.deliver(textMessage("one", "first\r\n"), { mailbox: "Archive", flags: ["\\Seen"] });
    await h.deliver(textMessage("two", "second\r\n"), { mailbox: "Archive" });
    const s = h.session();
    const r = await select(s, "Archive");
    assert.deepEqual(r.result, { status: "OK", code: "READ-WRITE", text: "SELECT completed" });
    const uv = (await h.t.db.query<{ uidvalidity: number }>("SELECT uidvalidity FROM mailboxes WHERE id = $1", [await h.mailboxId("Archive")])).rows[0]!.uidvalidity;
    assert.equal(
      r.text,
      "* 2 EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n" +
        "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] flags permitted\r\n" +
        `* OK [UNSEEN 2] first unseen\r\n* OK [UIDVALIDITY ${uv}] UIDs valid\r\n* OK [UIDNEXT 3] predicted next UID\r\n`,
    );
    assert.equal(s.ctx.state, "selected");

    const e = await s.run(selectOp, { name: "EXAMINE", mailbox: "Archive", condstore: true });
    assert.equal(e.result.code, "READ-ONLY");
    assert.match(e.text, /^\* OK \[CLOSED\] /);
    assert.match(e.text, /\* OK \[HIGHESTMODSEQ \d+\]/);
    assert.ok(s.ctx.enabled.has("CONDSTORE"));
    assert.equal((await store(s, "1", "add", ["\\Flagged"])).result.status, "NO");

    const n = await select(s, "Nope");
    assert.equal(n.result.code, "NONEXISTENT");
    assert.equal(s.ctx.state, "authenticated", "a failed SELECT leaves no mailbox selected");
    assert.equal(s.ctx.selected, undefined);
  });

  test("rev2 sessions get no RECENT and no UNSEEN", async () => {
    const s = h.session(["IMAP4REV2"]);
    const r = await select(s, "Archive");
    assert.doesNotMatch(r.text, /RECENT|UNSEEN/);
  });
});

describe("several sessions on one mailbox", () => {
  test("EXISTS, RECENT and FETCH flags reach the other session; EXPUNGE only when allowed, descending", async () => {
    const a = h.session();
    const b = h.session();
    const u1 = (await h.deliver(textMessage("m1", "x\r\n"), { mailbox: "Drafts" })).uid;
    await h.deliver(textMessage("m2", "x\r\n"), { mailbox: "Drafts" });
    await h.deliver(textMessage("m3", "x\r\n"), { mailbox: "Drafts" });
    await select(a, "Drafts");
    await select(b, "Drafts");

    let woken = 0;
    const view = a.ctx.selected as unknown as { onChange(cb: () => void): () => void };
    view.onChange(() => woken++);

    const u4 = (await h.deliver(textMessage("m4", "x\r\n"), { mailbox: "Drafts" })).uid;
    assert.equal(await noopSync(a, true), "* 4 EXISTS\r\n* 1 RECENT\r\n");
    assert.equal(await noopSync(a, true), "", "nothing is reported twice");

    // b flags message 2 and deletes 1 and 3 and expunges.
    const st = await store(b, "2", "add", ["\\Flagged"]);
    assert.match(st.text, /^\* 2 FETCH \(FLAGS \(\\Flagged\)\)\r\n\* 4 EXISTS\r\n/);
    await store(b, "1,3", "add", ["\\Deleted"], { silent: true });
    const ex = await b.run(expungeOp, { name: "EXPUNGE" });
    assert.equal(ex.text, "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n");
    assert.ok(woken > 0, "the notifier woke the other view");

    // During FETCH no EXPUNGE: a still has 4 messages and sees the flag change.
    const f = await a.run(fetchOp, { name: "FETCH", uid: false, set: seqSet("1:*"), attributes: [{ kind: "FLAGS" }] });
    assert.equal(a.ctx.selected!.exists, 4);
    assert.doesNotMatch(f.text, /EXPUNGE/);
    assert.match(f.text, /\* 2 FETCH \(UID \d+ FLAGS \(\\Flagged\)\)/);
    assert.match(f.text, /\* 4 FETCH \(FLAGS \(\\Recent\)\)/, "message 4 is recent in this view (rev1)");
    assert.doesNotMatch(f.text, /\* [13] FETCH \(FLAGS/, "expunged messages are not fetched");
    // Then a NOOP-like sync reports them, highest first.
    assert.equal(await noopSync(a, true), "* 3 EXPUNGE\r\n* 1 EXPUNGE\r\n");
    assert.equal(a.ctx.selected!.exists, 2);
    assert.equal(a.ctx.selected!.uidOf(2), u4);
    assert.equal(a.ctx.selected!.seqOf(u1), undefined);
  });

  test("QRESYNC sessions get VANISHED; CONDSTORE adds MODSEQ", async () => {
    const a = h.session(["QRESYNC"]);
    const b = h.session();
    const u1 = (await h.deliver(textMessage("q1", "x\r\n"), { mailbox: "Sent" })).uid;
    const u2 = (await h.deliver(textMessage("q2", "x\r\n"), { mailbox: "Sent" })).uid;
    await select(a, "Sent");
    await select(b, "Sent");
    await store(b, "2", "add", ["\\Seen"]);
    assert.match(await noopSync(a, true), new RegExp(`^\\* 2 FETCH \\(UID ${u2} FLAGS \\(\\\\Seen\\) MODSEQ \\(\\d+\\)\\)\r\n$`));
    await store(b, "1", "add", ["\\Deleted"]);
    await b.run(expungeOp, { name: "EXPUNGE" });
    assert.equal(await noopSync(a, true), `* VANISHED ${u1}\r\n`);
  });
});

describe("STORE", () => {
  test("FLAGS, +FLAGS, -FLAGS.SILENT, keywords, \\Recent ignored, one new modseq, announced", async () => {
    const s = h.session(["CONDSTORE"]);
    await h.deliver(textMessage("s1", "x\r\n"), { mailbox: "Trash" });
    await h.deliver(textMessage("s2", "x\r\n"), { mailbox: "Trash" });
    const sel = await select(s, "Trash");
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.text)![1]);
    h.notifier.announced.length = 0;
    const r = await store(s, "1:2", "add", ["\\seen", "$Label1", "\\Recent"]);
    assert.equal(r.result.status, "OK");
    assert.equal(r.text, `* 1 FETCH (FLAGS (\\Seen $Label1) MODSEQ (${hms + 1}))\r\n* 2 FETCH (FLAGS (\\Seen $Label1) MODSEQ (${hms + 1}))\r\n`);
    assert.deepEqual(h.notifier.announced.map((c) => [c.kind, c.modseq]), [["flags", hms + 1], ["flags", hms + 1]]);
    const q = await h.t.db.query<{ flags: string[]; modseq: number }>("SELECT flags, modseq FROM messages WHERE mailbox_id = $1 ORDER BY uid", [await h.mailboxId("Trash")]);
    assert.deepEqual(q.rows.map((x) => x.flags), [["\\Seen", "$Label1"], ["\\Seen", "$Label1"]]);
    const hm = await h.t.db.query<{ highestmodseq: number }>("SELECT highestmodseq FROM mailboxes WHERE id = $1", [await h.mailboxId("Trash")]);
    assert.equal(hm.rows[0]!.highestmodseq, hms + 1);

    // -FLAGS.SILENT under CONDSTORE still reports UID-less MODSEQ for changed messages, no FLAGS.
    const silent = await store(s, "1", "remove", ["$label1"], { silent: true });
    assert.equal(silent.text, `* 1 FETCH (MODSEQ (${hms + 2}))\r\n`);
    // Storing the same flags again changes nothing and takes no modseq.
    const same = await store(s, "1", "set", ["\\Seen"], { uid: false });
    assert.equal(same.text, `* 1 FETCH (FLAGS (\\Seen) MODSEQ (${hms + 2}))\r\n`);
    // UNCHANGEDSINCE: message 2 changed at hms+1; message 1 at hms+2.
    const cond = await store(s, "1:2", "add", ["\\Answered"], { unchangedSince: hms + 1 });
    assert.equal(cond.result.code, "MODIFIED 1");
    assert.match(cond.text, new RegExp(`^\\* 2 FETCH \\(FLAGS \\(\\\\Seen \\$Label1 \\\\Answered\\) MODSEQ \\(${hms + 3}\\)\\)`));
    const bad = await store(s, "3", "add", ["\\Seen"]);
    assert.deepEqual(bad.result, { status: "BAD", text: "invalid sequence number" });
  });
});

describe("COPY, MOVE, EXPUNGE, CLOSE", () => {
  test("COPY gives COPYUID, shares the blob, TRYCREATE for a missing mailbox", async () => {
    const s = h.session();
    const m = await h.deliver(textMessage("c1", "copy me\r\n"), { mailbox: "Junk", flags: ["\\Seen"], mailId: "01HZZZZZZZZZZZZZZZZZZZZZZ1" });
    await select(s, "Junk");
    const before = (await h.t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [m.key])).rows[0]!.refcount;
    h.notifier.announced.length = 0;
    const r = await s.run(copyOp, { name: "COPY", uid: true, set: seqSet(`${m.uid}`), mailbox: "INBOX" });
    const inboxUv = (await h.t.db.query<{ uidvalidity: number; uidnext: number }>("SELECT uidvalidity, uidnext FROM mailboxes WHERE id = $1", [await h.mailboxId("INBOX")])).rows[0]!;
    assert.deepEqual(r.result, { status: "OK", code: `COPYUID ${inboxUv.uidvalidity} ${m.uid} ${inboxUv.uidnext - 1}`, text: "COPY completed" });
    const after = (await h.t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [m.key])).rows[0]!.refcount;
    assert.equal(after, before + 1);
    const copied = await h.t.db.query<{ flags: string[]; subject: string; envelope: unknown }>(
      "SELECT flags, subject, envelope FROM messages WHERE mailbox_id = $1 AND uid = $2",
      [await h.mailboxId("INBOX"), inboxUv.uidnext - 1],
    );
    assert.deepEqual(copied.rows[0]!.flags, ["\\Seen"]);
    assert.equal(copied.rows[0]!.subject, "c1");
    assert.ok(copied.rows[0]!.envelope);
    assert.equal(h.notifier.announced[0]!.mailId, "01HZZZZZZZZZZZZZZZZZZZZZZ1");
    const t = await s.run(copyOp, { name: "COPY", uid: false, set: seqSet("1"), mailbox: "Nowhere" });
    assert.equal(t.result.code, "TRYCREATE");
  });

  test("MOVE: untagged COPYUID, then EXPUNGE; events carry the mail id", async () => {
    const s = h.session();
    await h.deliver(textMessage("mv1", "x\r\n"), { mailbox: "Archive" });
    const m = await h.deliver(textMessage("mv2", "x\r\n"), { mailbox: "Archive", mailId: "01HZZZZZZZZZZZZZZZZZZZZZZ2" });
    await select(s, "Archive");
    const seq = s.ctx.selected!.seqOf(m.uid)!;
    const exists = s.ctx.selected!.exists;
    h.notifier.announced.length = 0;
    const r = await s.run(moveOp, { name: "MOVE", uid: true, set: seqSet(`${m.uid}`), mailbox: "Junk" });
    assert.equal(r.result.status, "OK");
    assert.match(r.text, new RegExp(`^\\* OK \\[COPYUID \\d+ ${m.uid} \\d+\\] moved\r\n\\* ${seq} EXPUNGE\r\n$`));
    assert.equal(s.ctx.selected!.exists, exists - 1);
    assert.deepEqual(h.notifier.announced.map((c) => [c.kind, c.mailId]), [["append", "01HZZZZZZZZZZZZZZZZZZZZZZ2"], ["expunge", "01HZZZZZZZZZZZZZZZZZZZZZZ2"]]);
    const gone = await h.t.db.query("SELECT 1 FROM messages WHERE mailbox_id = $1 AND uid = $2", [await h.mailboxId("Archive"), m.uid]);
    assert.equal(gone.rows.length, 0);
    const tomb = await h.t.db.query("SELECT 1 FROM expunged_messages WHERE mailbox_id = $1 AND uid = $2", [await h.mailboxId("Archive"), m.uid]);
    assert.equal(tomb.rows.length, 1);
  });

  test("UID EXPUNGE removes only the named \\Deleted messages; CLOSE expunges silently; UNSELECT does not", async () => {
    const s = h.session();
    const uids: number[] = [];
    for (let i = 0; i < 4; i++) uids.push((await h.deliver(textMessage(`x${i}`, "x\r\n"), { mailbox: "INBOX", flags: ["\\Deleted"] })).uid);
    await select(s, "INBOX");
    const seqs = uids.map((u) => s.ctx.selected!.seqOf(u)!);
    const r = await s.run(expungeOp, { name: "EXPUNGE", uids: seqSet(`${uids[1]}:${uids[2]}`) });
    assert.equal(r.text, `* ${seqs[2]} EXPUNGE\r\n* ${seqs[1]} EXPUNGE\r\n`);
    const u = await s.run(unselectOp, { name: "UNSELECT" });
    assert.equal(u.text, "");
    assert.equal(s.ctx.state, "authenticated");
    const left = async () => (await h.t.db.query("SELECT 1 FROM messages WHERE mailbox_id = $1 AND '\\Deleted' = ANY(flags)", [await h.mailboxId("INBOX")])).rows.length;
    assert.equal(await left(), 2);
    await select(s, "INBOX");
    const c = await s.run(closeOp, { name: "CLOSE" });
    assert.equal(c.text, "");
    assert.equal(await left(), 0);
    assert.equal(s.ctx.selected, undefined);
  });
});

describe("QRESYNC SELECT", () => {
  test("VANISHED (EARLIER) and the flags changed since the client's modseq", async () => {
    const s = h.session(["QRESYNC"]);
    const other = h.session();
    const a = await h.deliver(textMessage("r1", "x\r\n"), { mailbox: "Drafts" });
    const b = await h.deliver(textMessage("r2", "x\r\n"), { mailbox: "Drafts" });
    const sel = await select(s, "Drafts");
    const uv = Number(/UIDVALIDITY (\d+)/.exec(sel.text)![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.text)![1]);
    await s.run(unselectOp, { name: "UNSELECT" });

    await select(other, "Drafts");
    await other.run(storeOp, { name: "STORE", uid: true, set: seqSet(`${b.uid}`), action: "add", silent: true, flags: ["\\Answered"] });
    await other.run(storeOp, { name: "STORE", uid: true, set: seqSet(`${a.uid}`), action: "add", silent: true, flags: ["\\Deleted"] });
    await other.run(expungeOp, { name: "EXPUNGE" });

    const r = await select(s, "Drafts", { qresync: { uidValidity: uv, modseq } });
    assert.match(r.text, new RegExp(`\\* VANISHED \\(EARLIER\\) ${a.uid}\r\n`));
    assert.match(r.text, new RegExp(`\\* \\d+ FETCH \\(UID ${b.uid} FLAGS \\(\\\\Answered\\) MODSEQ \\(\\d+\\)\\)\r\n`));
    const plain = h.session();
    const refused = await select(plain, "Drafts", { qresync: { uidValidity: uv, modseq } });
    assert.equal(refused.result.status, "BAD");
  });
});

describe("sequence sets", () => {
  test("* and UID ranges beyond the largest UID; sequence numbers beyond EXISTS are BAD", async () => {
    const s = h.session();
    await h.deliver(textMessage("z1", "x\r\n"), { mailbox: "Sent" });
    await select(s, "Sent");
    const view = s.ctx.selected!;
    const max = view.uidOf(view.exists)!;
    assert.deepEqual(view.resolve(seqSet(`${max + 100}:*`), true), [max], "n:* with * < n includes *");
    assert.deepEqual(view.resolve(seqSet("*"), false), [max]);
    const r = await s.run(fetchOp, { name: "FETCH", uid: false, set: seqSet(`${view.exists + 1}`), attributes: [{ kind: "FLAGS" }] });
    assert.deepEqual(r.result, { status: "BAD", text: "invalid sequence number" });
    const u = await s.run(fetchOp, { name: "FETCH", uid: true, set: seqSet(`${max + 1000}`), attributes: [{ kind: "FLAGS" }] });
    assert.equal(u.result.status, "OK");
    assert.equal(u.text, "");
  });
});
