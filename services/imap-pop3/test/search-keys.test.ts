import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { SearchKey, SearchReturn } from "../src/imap/protocol/types.ts";
import { fetchOp } from "../src/imap/server/op/fetch.ts";
import { searchOp } from "../src/imap/server/op/search.ts";
import { selectOp } from "../src/imap/server/op/select.ts";
import { storeOp } from "../src/imap/server/op/store.ts";
import { createHarness, seqSet, textMessage, type Harness, type Session } from "./imap-selected-harness.ts";

let h: Harness;
let s: Session;
const uids: number[] = [];

const latin1Body =
  "From: Dora <dora@example.test>\r\nTo: team@example.test\r\nSubject: =?iso-8859-1?q?R=E9sum=E9?=\r\nDate: Sun, 1 Feb 2026 09:00:00 +0100\r\n" +
  "X-Priority: 1 (Highest)\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nLa cr=E8me br=FBl=E9e est d=E9licieuse.\r\n";
const base64Html =
  "From: Eve <eve@example.test>\r\nTo: alice@example.test\r\nCc: frank@example.test\r\nSubject: report\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\n" +
  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  Buffer.from("<p>Quarterly Überschuss numbers</p>").toString("base64") +
  "\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
  Buffer.from("secret attachment words").toString("base64") +
  "\r\n--b--\r\n";

before(async () => {
  h = await createHarness();
  uids.push((await h.deliver(textMessage("alpha", "plain words here\r\n"), { date: new Date("2026-01-10T10:00:00Z"), flags: ["\\Seen"] })).uid);
  uids.push((await h.deliver(latin1Body, { date: new Date("2026-02-01T08:00:00Z"), flags: ["\\Flagged", "$Work"] })).uid);
  uids.push((await h.deliver(base64Html, { date: new Date("2026-03-02T12:00:00Z") })).uid);
  uids.push((await h.deliver(textMessage("big one", "x".repeat(5000) + "\r\n"), { date: new Date("2026-03-05T00:00:00Z"), flags: ["\\Deleted", "\\Seen"] })).uid);
  s = h.session();
  await s.run(selectOp, { name: "SELECT", mailbox: "INBOX", condstore: false });
});
after(async () => {
  await h.close();
});

const search = (key: SearchKey, more: { uid?: boolean; returns?: SearchReturn[]; charset?: string } = {}) =>
  s.run(searchOp, { name: "SEARCH", uid: more.uid ?? false, key, ...(more.returns ? { returns: more.returns } : {}), ...(more.charset ? { charset: more.charset } : {}) });
const seqs = async (key: SearchKey): Promise<number[]> => {
  const r = await search(key);
  assert.equal(r.result.status, "OK", r.result.text);
  const m = /^\* SEARCH([ \d]*)/m.exec(r.text)!;
  return m[1]!.trim() ? m[1]!.trim().split(" ").map(Number) : [];
};

describe("SEARCH keys", () => {
  test("flags, keywords, sizes, dates, sets (SQL)", async () => {
    assert.deepEqual(await seqs({ kind: "all" }), [1, 2, 3, 4]);
    assert.deepEqual(await seqs({ kind: "flag", flag: "\\Seen", set: true }), [1, 4]);
    assert.deepEqual(await seqs({ kind: "flag", flag: "\\SEEN", set: false }), [2, 3]);
    assert.deepEqual(await seqs({ kind: "flag", flag: "$work", set: true }), [2], "keywords match case-insensitively");
    assert.deepEqual(await seqs({ kind: "size", op: "larger", octets: 4000 }), [4]);
    assert.deepEqual(await seqs({ kind: "size", op: "smaller", octets: 4000 }), [1, 2, 3]);
    assert.deepEqual(await seqs({ kind: "date", of: "internal", op: "before", date: "2026-02-01" }), [1]);
    assert.deepEqual(await seqs({ kind: "date", of: "internal", op: "on", date: "2026-02-01" }), [2]);
    assert.deepEqual(await seqs({ kind: "date", of: "internal", op: "since", date: "2026-03-02" }), [3, 4]);
    assert.deepEqual(await seqs({ kind: "date", of: "sent", op: "on", date: "2026-03-02" }), [3]);
    assert.deepEqual(await seqs({ kind: "seq", set: seqSet("2:3") }), [2, 3]);
    assert.deepEqual(await seqs({ kind: "uid", set: seqSet(`${uids[3]}:*`) }), [4]);
    assert.deepEqual(await seqs({ kind: "or", left: { kind: "flag", flag: "\\Flagged", set: true }, right: { kind: "not", key: { kind: "seq", set: seqSet("1:3") } } }), [2, 4]);
    assert.deepEqual(await seqs({ kind: "recent", set: true }), []);
    const bad = await search({ kind: "seq", set: seqSet("9") });
    assert.equal(bad.result.status, "BAD");
  });

  test("header fields from the cached columns and from the header block", async () => {
    assert.deepEqual(await seqs({ kind: "header", field: "SUBJECT", value: "résumé" }), [2], "RFC 2047 decoded, case-insensitive");
    assert.deepEqual(await seqs({ kind: "header", field: "FROM", value: "EVE@example" }), [3]);
    assert.deepEqual(await seqs({ kind: "header", field: "CC", value: "frank" }), [3]);
    assert.deepEqual(await seqs({ kind: "header", field: "X-PRIORITY", value: "highest" }), [2]);
    assert.deepEqual(await seqs({ kind: "header", field: "X-PRIORITY", value: "" }), [2], "empty value: has the field");
    assert.deepEqual(await seqs({ kind: "header", field: "MESSAGE-ID", value: "alpha@" }), [1]);
  });

  test("BODY and TEXT: decoded transfer encodings and charsets, substrings, attachments not searched", async () => {
    assert.deepEqual(await seqs({ kind: "body", value: "CRÈME BRÛLÉE" }), [2]);
    assert.deepEqual(await seqs({ kind: "body", value: "überschuss" }), [3]);
    assert.deepEqual(await seqs({ kind: "body", value: "secret attachment" }), []);
    assert.deepEqual(await seqs({ kind: "body", value: "report" }), [], "BODY does not search the header");
    assert.deepEqual(await seqs({ kind: "text", value: "report" }), [3], "TEXT does");
    assert.deepEqual(await seqs({ kind: "text", value: "words" }), [1]);
    // Mixed: SQL narrows, the content key decides; OR over a content key is evaluated whole.
    assert.deepEqual(await seqs({ kind: "and", keys: [{ kind: "flag", flag: "\\Seen", set: false }, { kind: "body", value: "e" }] }), [2, 3]);
    assert.deepEqual(await seqs({ kind: "or", left: { kind: "body", value: "plain words" }, right: { kind: "size", op: "larger", octets: 4000 } }), [1, 4]);
    assert.deepEqual(await seqs({ kind: "not", key: { kind: "text", value: "x-priority" } }), [1, 3, 4]);
  });

  test("CHARSET: UTF-8 and US-ASCII; others are NO [BADCHARSET]", async () => {
    assert.equal((await search({ kind: "all" }, { charset: "utf-8" })).result.status, "OK");
    const r = await search({ kind: "all" }, { charset: "KOI8-R" });
    assert.deepEqual(r.result, { status: "NO", code: "BADCHARSET (UTF-8 US-ASCII)", text: "unsupported charset" });
  });
});

describe("results", () => {
  test("UID SEARCH, ESEARCH with TAG, MIN/MAX/COUNT/ALL, SAVE and $", async () => {
    const u = await search({ kind: "flag", flag: "\\Seen", set: false }, { uid: true });
    assert.match(u.text, new RegExp(`^\\* SEARCH ${uids[1]} ${uids[2]}\r\n`));
    const e = await search({ kind: "all" }, { uid: true, returns: ["MIN", "MAX", "COUNT", "ALL"] });
    assert.equal(e.text, `* ESEARCH (TAG "a1") UID MIN ${uids[0]} MAX ${uids[3]} COUNT 4 ALL ${uids[0]}:${uids[3]}\r\n`);
    const empty = await search({ kind: "flag", flag: "\\Answered", set: true }, { returns: [] });
    assert.equal(empty.text, `* ESEARCH (TAG "a1")\r\n`);
    const saved = await search({ kind: "flag", flag: "\\Seen", set: true }, { returns: ["SAVE"] });
    assert.equal(saved.text, "", "SAVE alone gives no ESEARCH");
    assert.deepEqual(s.ctx.savedSearch, [uids[0], uids[3]]);
    const f = await s.run(fetchOp, { name: "FETCH", uid: false, set: seqSet("$"), attributes: [{ kind: "UID" }] });
    assert.equal(f.text, `* 1 FETCH (UID ${uids[0]})\r\n* 4 FETCH (UID ${uids[3]})\r\n`);
    assert.deepEqual(await seqs({ kind: "and", keys: [{ kind: "seq", set: seqSet("$") }, { kind: "size", op: "smaller", octets: 4000 }] }), [1]);

    const rev2 = h.session(["IMAP4REV2"]);
    await rev2.run(selectOp, { name: "SELECT", mailbox: "INBOX", condstore: false });
    const r2 = await rev2.run(searchOp, { name: "SEARCH", uid: false, key: { kind: "seq", set: seqSet("2") } });
    assert.equal(r2.text, `* ESEARCH (TAG "a1") ALL 2\r\n`);
  });

  test("MODSEQ key: the highest modseq of the matches is returned", async () => {
    await s.run(storeOp, { name: "STORE", uid: false, set: seqSet("3"), action: "add", silent: true, flags: ["\\Answered"] });
    const m = (await h.t.db.query<{ modseq: number }>("SELECT modseq FROM messages WHERE uid = $1", [uids[2]])).rows[0]!.modseq;
    const r = await search({ kind: "modseq", modseq: m });
    assert.equal(r.text.split("\r\n")[0], `* SEARCH 3 (MODSEQ ${m})`);
    const e = await search({ kind: "modseq", modseq: m - 1 }, { returns: ["COUNT"] });
    assert.match(e.text, new RegExp(`^\\* ESEARCH \\(TAG "a1"\\) COUNT \\d+ MODSEQ ${m}\r\n`));
  });
});
