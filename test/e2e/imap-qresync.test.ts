import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { seedMailbox, startImapInstallation, type ImapInstallation } from "./support/mail-clients.ts";
import { generateMessage } from "./support/messages.ts";
import { RawImap, type ImapResponse } from "./support/raw-imap.ts";

// CONDSTORE/QRESYNC (RFC 7162) resynchronisation against imap-pop3 in cluster mode: a client
// remembers UIDVALIDITY and HIGHESTMODSEQ, another session changes flags and expunges, and the
// first one's `SELECT INBOX (QRESYNC (uidvalidity modseq))` brings exactly the expunged UIDs in
// `VANISHED (EARLIER)` and exactly the changed messages' flags in FETCH responses.
const USER = { address: "resync@example.test", password: "resync-password-1" };

let install: ImapInstallation;
let uids: number[];

before(async () => {
  install = await startImapInstallation({ accounts: [USER] });
  uids = await seedMailbox(install.database.db, install.blobs, USER.address, "INBOX", Array.from({ length: 12 }, (_, i) => generateMessage(i + 1, 9)));
});
after(async () => {
  await install?.stop();
});

async function session(): Promise<RawImap> {
  const c = await RawImap.connect({ port: install.services[0]!.imap, tls: "starttls", ca: install.cert.cert });
  const login = await c.command(`LOGIN ${USER.address} ${USER.password}`);
  assert.equal(login.status, "OK", login.text);
  return c;
}

function code(responses: ImapResponse[], name: string): string | undefined {
  for (const r of responses) {
    const m = new RegExp(`\\[${name} ([^\\]]+)\\]`, "i").exec(r.text);
    if (m) return m[1];
  }
  return undefined;
}

/** A UID set such as 3:5,7 as the list of its UIDs. */
function expandSet(set: string): number[] {
  return set.split(",").flatMap((range) => {
    const [a, b] = range.split(":").map(Number);
    if (b === undefined) return [a!];
    const [lo, hi] = [Math.min(a!, b), Math.max(a!, b)];
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
}

interface FetchInfo {
  uid: number;
  flags: string[];
  modseq: number;
}

function fetches(responses: ImapResponse[]): FetchInfo[] {
  const out: FetchInfo[] = [];
  for (const r of responses) {
    if (!/^\* \d+ FETCH /i.test(r.text)) continue;
    const uid = Number(/\bUID (\d+)/i.exec(r.text)?.[1]);
    const flags = /\bFLAGS \(([^)]*)\)/i.exec(r.text)?.[1]?.split(" ").filter(Boolean).sort() ?? [];
    const modseq = Number(/\bMODSEQ \((\d+)\)/i.exec(r.text)?.[1]);
    out.push({ uid, flags, modseq });
  }
  return out.sort((a, b) => a.uid - b.uid);
}

test("QRESYNC after another session's STORE and EXPUNGE: exactly the vanished UIDs and the changed flags", async () => {
  const first = await session();
  assert.equal((await first.command("ENABLE QRESYNC")).status, "OK");
  const initial = await first.command("SELECT INBOX (CONDSTORE)");
  assert.equal(initial.status, "OK", initial.text);
  const uidValidity = code(initial.untagged, "UIDVALIDITY");
  const highest = Number(code(initial.untagged, "HIGHESTMODSEQ"));
  assert.ok(uidValidity && highest > 0, `UIDVALIDITY ${uidValidity}, HIGHESTMODSEQ ${highest}`);
  await first.logout();

  const other = await session();
  assert.equal((await other.command("SELECT INBOX")).status, "OK");
  const [u] = [uids];
  const flagged = [u[1]!, u[3]!];
  const seen = [u[5]!];
  const expunged = [u[2]!, u[4]!, u[6]!, u[11]!];
  for (const [set, change] of [
    [flagged.join(","), "+FLAGS (\\Flagged)"],
    [seen.join(","), "+FLAGS (\\Seen $Label1)"],
    [expunged.join(","), "+FLAGS (\\Deleted)"],
  ] as const) {
    const r = await other.command(`UID STORE ${set} ${change}`);
    assert.equal(r.status, "OK", r.text);
  }
  const ex = await other.command(`UID EXPUNGE ${expunged.join(",")}`);
  assert.equal(ex.status, "OK", ex.text);
  assert.deepEqual(
    ex.untagged.flatMap((r) => (/^\* \d+ EXPUNGE$/i.test(r.text) ? [r] : [])).length,
    expunged.length,
    "the session that expunged is told of each",
  );
  await other.logout();

  const again = await session();
  assert.equal((await again.command("ENABLE QRESYNC")).status, "OK");
  const resync = await again.command(`SELECT INBOX (QRESYNC (${uidValidity} ${highest}))`);
  assert.equal(resync.status, "OK", resync.text);
  const vanished = resync.untagged.filter((r) => /^\* VANISHED /i.test(r.text));
  assert.ok(vanished.every((r) => /^\* VANISHED \(EARLIER\) /i.test(r.text)), vanished.map((r) => r.text).join("\n"));
  const vanishedUids = vanished.flatMap((r) => expandSet(r.text.replace(/^\* VANISHED \(EARLIER\) /i, "").trim())).sort((a, b) => a - b);
  assert.deepEqual(vanishedUids, [...expunged].sort((a, b) => a - b), "VANISHED (EARLIER): the expunged UIDs, no others");
  const changed = fetches(resync.untagged);
  assert.deepEqual(
    changed.map((f) => [f.uid, f.flags]),
    [...flagged.map((uid) => [uid, ["\\Flagged"]]), ...seen.map((uid) => [uid, ["$Label1", "\\Seen"]])].sort((a, b) => (a[0] as number) - (b[0] as number)),
    "FETCH (UID FLAGS MODSEQ) for exactly the changed messages",
  );
  const newHighest = Number(code(resync.untagged, "HIGHESTMODSEQ"));
  for (const f of changed) assert.ok(f.modseq > highest && f.modseq <= newHighest, `MODSEQ ${f.modseq} in (${highest}, ${newHighest}]`);
  assert.ok(resync.untagged.some((r) => r.text === `* ${12 - expunged.length} EXISTS`), "EXISTS counts what is left");

  // The same question asked with UID FETCH … (CHANGEDSINCE … VANISHED).
  const since = await again.command(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest} VANISHED)`);
  assert.equal(since.status, "OK", since.text);
  assert.deepEqual(
    since.untagged.filter((r) => /^\* VANISHED /i.test(r.text)).flatMap((r) => expandSet(r.text.replace(/^\* VANISHED \(EARLIER\) /i, "").trim())).sort((a, b) => a - b),
    [...expunged].sort((a, b) => a - b),
    "UID FETCH 1:* … VANISHED: every expunged UID, the highest one too (`*` covers up to UIDNEXT-1 here, as Dovecot does)",
  );
  assert.deepEqual(fetches(since.untagged).map((f) => f.uid), [...flagged, ...seen].sort((a, b) => a - b));

  // Nothing changed since the new HIGHESTMODSEQ: an empty resync.
  await again.command("UNSELECT");
  const quiet = await again.command(`SELECT INBOX (QRESYNC (${uidValidity} ${newHighest}))`);
  assert.equal(quiet.status, "OK", quiet.text);
  assert.deepEqual(quiet.untagged.filter((r) => /^\* (VANISHED|\d+ FETCH) /i.test(r.text)).map((r) => r.text), []);

  // A stale UIDVALIDITY: no VANISHED, no FETCH (the client must start over).
  await again.command("UNSELECT");
  const stale = await again.command(`SELECT INBOX (QRESYNC (${Number(uidValidity) + 1} ${highest}))`);
  assert.equal(stale.status, "OK", stale.text);
  assert.deepEqual(stale.untagged.filter((r) => /^\* (VANISHED|\d+ FETCH) /i.test(r.text)).map((r) => r.text), []);
  await again.logout();
});
