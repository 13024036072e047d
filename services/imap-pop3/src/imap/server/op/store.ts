/**
 * STORE and UID STORE (RFC 9051 6.4.6, RFC 7162 UNCHANGEDSINCE). One transaction under the mailbox
 * row lock: the rows are read FOR UPDATE, every changed message gets the same new modseq taken from
 * the mailbox's highestmodseq, and messages whose modseq is above UNCHANGEDSINCE are left alone and
 * listed in `OK [MODIFIED set]`. System flags are stored in their canonical spelling; \Recent cannot
 * be stored and is ignored.
 */
import { compactSet, flagList } from "../../protocol/encode.ts";
import { INVALID_SEQUENCE, NOT_SELECTED, resolveForOp, selectedView } from "../core/mailbox-view.ts";
import { canonicalFlag, lockMailbox, nextModseq, writeFlags } from "../core/messages.ts";
import type { MailboxChange, Op } from "../core/op.ts";

export const storeOp: Op<"STORE"> = async (ctx, command, out) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (view.readOnly) return { status: "NO", text: "mailbox is read-only" };
  const resolved = resolveForOp(view, command.set, command.uid);
  if (!resolved) return INVALID_SEQUENCE;
  if (command.uid) view.usedUid = true;
  if (command.unchangedSince !== undefined) ctx.enabled.add("CONDSTORE");
  const condstore = ctx.enabled.has("CONDSTORE") || ctx.enabled.has("QRESYNC");
  const given = dedupe(command.flags.map(canonicalFlag).filter((f) => f !== "\\Recent"));
  const uids = resolved.filter((u) => !view.isPendingExpunge(u));

  const result = await ctx.db.transaction(async (tx) => {
    await lockMailbox(tx, view.mailboxId);
    if (uids.length === 0) return { rows: [], failed: [], modseq: 0, changed: new Set<number>() };
    const r = await tx.query<{ uid: number; modseq: number; flags: string[] }>(
      "SELECT uid, modseq, flags FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid FOR UPDATE",
      [view.mailboxId, uids],
    );
    const failed: number[] = [];
    const rows: Array<{ uid: number; modseq: number; flags: string[] }> = [];
    const updates: Array<{ uid: number; flags: string[] }> = [];
    for (const row of r.rows) {
      const uid = Number(row.uid);
      const modseq = Number(row.modseq);
      if (command.unchangedSince !== undefined && modseq > command.unchangedSince) {
        failed.push(uid);
        continue;
      }
      const next = applyAction(row.flags, given, command.action);
      rows.push({ uid, modseq, flags: next });
      if (!sameSet(row.flags, next)) updates.push({ uid, flags: next });
    }
    let modseq = 0;
    if (updates.length > 0) {
      modseq = await nextModseq(tx, view.mailboxId);
      await writeFlags(tx, view.mailboxId, modseq, updates);
    }
    const changed = new Set(updates.map((u) => u.uid));
    for (const row of rows) if (changed.has(row.uid)) row.modseq = modseq;
    return { rows, failed, modseq, changed };
  });

  let text = "";
  for (const row of result.rows) {
    const wasChanged = result.changed.has(row.uid);
    if (wasChanged) view.noteFlags(row.uid, row.flags, row.modseq);
    // RFC 7162 3.1.4: under CONDSTORE a changed message is reported with its MODSEQ even for .SILENT.
    if (command.silent && !(condstore && wasChanged)) continue;
    const seq = view.seqOf(row.uid);
    if (seq === undefined) continue;
    const items: string[] = [];
    if (command.uid || ctx.enabled.has("QRESYNC")) items.push(`UID ${row.uid}`);
    if (!command.silent) items.push(`FLAGS ${flagList(row.flags)}`);
    if (condstore) items.push(`MODSEQ (${row.modseq})`);
    text += `* ${seq} FETCH (${items.join(" ")})\r\n`;
  }
  if (text) out.write(text);

  if (result.changed.size > 0) {
    const changes: MailboxChange[] = [...result.changed].map((uid) => ({
      accountId: view.accountId,
      mailboxId: view.mailboxId,
      uid,
      modseq: result.modseq,
      kind: "flags",
    }));
    await ctx.notifier.announce(changes);
  }
  if (result.failed.length > 0) {
    const set = command.uid ? result.failed : result.failed.map((u) => view.seqOf(u)!).filter((s) => s !== undefined);
    return { status: "OK", code: `MODIFIED ${compactSet(set.sort((a, b) => a - b))}`, text: "conditional STORE failed for some messages" };
  }
  return { status: "OK", text: "STORE completed" };
};

function applyAction(current: string[], given: string[], action: "set" | "add" | "remove"): string[] {
  const lower = (f: string) => f.toLowerCase();
  if (action === "set") return given;
  if (action === "add") {
    const have = new Set(current.map(lower));
    return [...current, ...given.filter((f) => !have.has(lower(f)))];
  }
  const drop = new Set(given.map(lower));
  return current.filter((f) => !drop.has(lower(f)));
}

function dedupe(flags: string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((f) => {
    const k = f.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((f) => s.has(f));
}
