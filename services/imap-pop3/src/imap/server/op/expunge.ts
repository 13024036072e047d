/**
 * EXPUNGE and UID EXPUNGE (UIDPLUS): removes the view's \Deleted messages (within the UID set for
 * UID EXPUNGE) through libs/mailstore removeMessages (tombstones for QRESYNC, blob references, quota
 * usage), then writes this session's own EXPUNGE responses (descending sequence numbers) or one
 * VANISHED under QRESYNC. Expunges made by others are reported by the sync that follows.
 */
import { removeMessages } from "@postline/mailstore";
import { INVALID_SEQUENCE, NOT_SELECTED, resolveForOp, selectedView, type MailboxView } from "../core/mailbox-view.ts";
import type { MailboxChange, Op, ResponseSink, SessionContext } from "../core/op.ts";

export const expungeOp: Op<"EXPUNGE"> = async (ctx, command, out) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (view.readOnly) return { status: "NO", text: "mailbox is read-only" };
  let only: Set<number> | undefined;
  if (command.uids) {
    const uids = resolveForOp(view, command.uids, true);
    if (!uids) return INVALID_SEQUENCE;
    only = new Set(uids);
  }
  await expungeDeleted(ctx, view, out, only);
  return { status: "OK", text: "EXPUNGE completed" };
};

/** Removes the \Deleted messages of the view (optionally only these UIDs); with `out` null nothing is written (CLOSE). */
export async function expungeDeleted(ctx: SessionContext, view: MailboxView, out: ResponseSink | null, only?: Set<number>): Promise<number[]> {
  const r = await ctx.db.query<{ uid: number }>(
    "SELECT uid FROM messages WHERE mailbox_id = $1 AND '\\Deleted' = ANY(flags) ORDER BY uid",
    [view.mailboxId],
  );
  const uids = r.rows.map((x) => Number(x.uid)).filter((u) => view.seqOf(u) !== undefined && (!only || only.has(u)));
  if (uids.length === 0) return [];
  const removed = await removeMessages(ctx.db, { accountId: view.accountId, mailboxId: view.mailboxId, uids });
  const gone = removed.expunged.map((e) => e.uid);
  if (out) view.writeExpunged(out, gone);
  else view.removeUids(gone);
  const changes: MailboxChange[] = removed.expunged.map((e) => ({
    accountId: view.accountId,
    mailboxId: view.mailboxId,
    uid: e.uid,
    modseq: removed.modseq,
    kind: "expunge",
    ...(e.mailId ? { mailId: e.mailId } : {}),
  }));
  await ctx.notifier.announce(changes);
  return gone;
}
