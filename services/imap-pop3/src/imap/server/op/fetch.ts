/**
 * FETCH and UID FETCH (RFC 9051 6.4.5, RFC 3516 BINARY, RFC 7162 CHANGEDSINCE/VANISHED). The
 * metadata of the whole set is one query (none for a whole-message download of messages this process
 * has listed before, fetch/meta-cache.ts); bodies come from the message cache or the blob store. A non-peek body fetch
 * in a read-write mailbox sets \Seen first (one transaction under the mailbox lock, one new modseq)
 * and the response carries the new FLAGS.
 */
import { BlobNotFoundError } from "@postline/blobstore";
import { compactSet } from "../../protocol/encode.ts";
import type { FetchAttribute } from "../../protocol/types.ts";
import { INVALID_SEQUENCE, NOT_SELECTED, resolveForOp, selectedView, type MailboxView } from "../core/mailbox-view.ts";
import { hasFlag, loadMeta, lockMailbox, nextModseq, vanishedSince, writeFlags, type MessageMeta } from "../core/messages.ts";
import type { MailboxChange, Op, SessionContext } from "../core/op.ts";
import { fillEnvelopes } from "../fetch/envelope-cache.ts";
import { cachedMeta, rememberMeta, servedByMetaCache } from "../fetch/meta-cache.ts";
import { CoalescingSink, columnsFor, renderFetch, UnknownCte } from "../fetch/render.ts";

/** Messages rendered between two yields to the event loop. */
const YIELD_EVERY = 200;

export const fetchOp: Op<"FETCH"> = async (ctx, command, out) => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (command.vanished && (!command.uid || command.changedSince === undefined)) {
    return { status: "BAD", text: "VANISHED needs UID FETCH with CHANGEDSINCE" };
  }
  if (command.vanished && !ctx.enabled.has("QRESYNC")) return { status: "BAD", text: "VANISHED needs ENABLE QRESYNC" };
  const uids = resolveForOp(view, command.set, command.uid);
  if (!uids) return INVALID_SEQUENCE;
  if (command.uid) view.usedUid = true;

  let attrs = command.attributes;
  if (command.changedSince !== undefined || attrs.some((a) => a.kind === "MODSEQ")) ctx.enabled.add("CONDSTORE");
  if (command.uid && !attrs.some((a) => a.kind === "UID")) attrs = [{ kind: "UID" }, ...attrs];
  if (command.changedSince !== undefined && !attrs.some((a) => a.kind === "MODSEQ")) attrs = [...attrs, { kind: "MODSEQ" }];

  if (command.vanished && command.changedSince !== undefined) {
    const expunged = await vanishedSince(ctx.db, view.mailboxId, command.changedSince);
    const highest = expunged[expunged.length - 1] ?? 0;
    const gone = expunged.filter((u) => view.seqOf(u) === undefined && view.inUidSet(command.set, u, highest));
    if (gone.length > 0) out.write(`* VANISHED (EARLIER) ${compactSet(gone)}\r\n`);
  }

  const live = uids.filter((u) => !view.isPendingExpunge(u));
  const columns = columnsFor(attrs);
  // A download of whole messages already listed needs no query (fetch/meta-cache.ts).
  const quick = command.changedSince === undefined && servedByMetaCache(attrs) ? cachedMeta(view.mailboxId, live, (u) => view.entry(u)) : null;
  const metas = quick ?? (await loadMeta(ctx.db, view.mailboxId, live, columns, command.changedSince));
  if (!quick) rememberMeta(view.mailboxId, metas);
  if (attrs.some((a) => a.kind === "ENVELOPE")) await fillEnvelopes(ctx.db, metas);
  const flagsChanged = setsSeen(attrs) && !view.readOnly ? await markSeen(ctx, view, metas) : undefined;

  // RFC 7162 3.2: under CONDSTORE a flag change caused by this FETCH is reported with its MODSEQ.
  if (flagsChanged?.size && (ctx.enabled.has("CONDSTORE") || ctx.enabled.has("QRESYNC")) && !attrs.some((a) => a.kind === "MODSEQ")) {
    attrs = [...attrs, { kind: "MODSEQ" }];
  }
  const env = {
    db: ctx.db,
    blobs: ctx.blobs,
    recent: (uid: number) => !ctx.enabled.has("IMAP4REV2") && view.isRecent(uid),
    flagsChanged,
  };
  const sink = new CoalescingSink(out);
  try {
    for (let i = 0; i < metas.length; i++) {
      const m = metas[i]!;
      const seq = view.seqOf(m.uid);
      if (seq === undefined) continue;
      try {
        await renderFetch(env, sink, seq, m, attrs);
      } catch (err) {
        // Served from the cache, the message may have been expunged elsewhere and its blob deleted
        // (nothing of its response is written before the blob is at hand): then it is not there.
        if (quick && err instanceof BlobNotFoundError && (await loadMeta(ctx.db, view.mailboxId, [m.uid], columns)).length === 0) continue;
        throw err;
      }
      // A long metadata FETCH (`1:*` of a big mailbox) renders without real waits: let the other
      // sessions' commands in now and then, so they do not queue behind it.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } catch (err) {
    if (err instanceof UnknownCte) return { status: "NO", code: "UNKNOWN-CTE", text: `cannot decode ${err.encoding}` };
    throw err;
  } finally {
    sink.flush();
  }
  return { status: "OK", text: "FETCH completed" };
};

function setsSeen(attrs: FetchAttribute[]): boolean {
  return attrs.some((a) => ((a.kind === "BODY[]" || a.kind === "BINARY") && !a.peek) || a.kind === "RFC822" || a.kind === "RFC822.TEXT");
}

/** Sets \Seen on the messages that lack it, at one new modseq; updates `metas` and the view. */
async function markSeen(ctx: SessionContext, view: MailboxView, metas: MessageMeta[]): Promise<Set<number>> {
  const unseen = metas.filter((m) => !hasFlag(m.flags, "\\Seen"));
  const changed = new Set<number>();
  if (unseen.length === 0) return changed;
  const modseq = await ctx.db.transaction(async (tx) => {
    await lockMailbox(tx, view.mailboxId);
    // Re-read under the lock: another session may have changed these flags meanwhile.
    const r = await tx.query<{ uid: number; flags: string[] }>(
      "SELECT uid, flags FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) FOR UPDATE",
      [view.mailboxId, unseen.map((m) => m.uid)],
    );
    const updates = r.rows.filter((row) => !hasFlag(row.flags, "\\Seen")).map((row) => ({ uid: Number(row.uid), flags: [...row.flags, "\\Seen"] }));
    if (updates.length === 0) return null;
    const ms = await nextModseq(tx, view.mailboxId);
    await writeFlags(tx, view.mailboxId, ms, updates);
    return { ms, updates };
  });
  if (!modseq) return changed;
  const byUid = new Map(metas.map((m) => [m.uid, m]));
  const changes: MailboxChange[] = [];
  for (const u of modseq.updates) {
    const m = byUid.get(u.uid)!;
    m.flags = u.flags;
    m.modseq = modseq.ms;
    changed.add(u.uid);
    view.noteFlags(u.uid, u.flags, modseq.ms);
    changes.push({ accountId: view.accountId, mailboxId: view.mailboxId, uid: u.uid, modseq: modseq.ms, kind: "flags" });
  }
  await ctx.notifier.announce(changes);
  return changed;
}
