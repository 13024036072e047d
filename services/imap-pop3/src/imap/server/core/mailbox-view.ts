/**
 * The selected mailbox as one session sees it (RFC 9051 5.2): UIDs in order (sequence number n is
 * index n-1), each message's flags and modseq as last reported to the client, and the highest
 * modseq the view has caught up with.
 *
 * - Loading is one statement (core/messages.ts loadSnapshot); `sync` is one statement over
 *   `(mailbox_id, modseq)` for live messages and tombstones. The sync after an ordinary command
 *   (`ifChanged`) skips that statement when the notifier reported no change to the mailbox since the
 *   last read and that read is under MAX_UNREAD_MS old: every change is announced (locally at once,
 *   from other processes through the bus), and the age bound covers a lost or late bus record. NOOP,
 *   CHECK and IDLE always read.
 * - Expunges seen while `expunges: false` (during FETCH, STORE, SEARCH) stay pending: the message
 *   keeps its sequence number until a command that allows EXPUNGE responses runs.
 * - \Recent (rev1) is per session: a message is recent in this view when it arrived after the view
 *   was made (it is reported by `sync` as new). `* 0 RECENT` at SELECT; nothing is stored.
 * - Untagged FETCH for flags changed by others always carries UID (allowed by RFC 9051, needed by
 *   QRESYNC) and MODSEQ when CONDSTORE or QRESYNC is enabled.
 * - Ops that change messages themselves (STORE, EXPUNGE, MOVE, FETCH setting \Seen) write their own
 *   responses and tell the view with `noteFlags` / `removeUids`, so `sync` does not repeat them.
 */
import type { SequenceSet } from "../../protocol/types.ts";
import { compactSet, flagList } from "../../protocol/encode.ts";
import type { ResponseSink, SelectedMailbox, SessionContext } from "./op.ts";
import { performance } from "node:perf_hooks";
import { changesSince, loadSnapshot, type ChangeRow, type ViewEntry } from "./messages.ts";

/**
 * The longest a session's view goes without reading the store while commands keep coming, even when
 * no change was notified (a bus record lost or slow). RFC 9051 lets a server report changes at any
 * later command that allows it.
 */
const MAX_UNREAD_MS = 1000;

/** A sequence number beyond EXISTS (or 0): the op answers `BAD invalid sequence number`. */
export class InvalidSequence extends Error {
  constructor(readonly value: number) {
    super("invalid sequence number");
    this.name = "InvalidSequence";
  }
}

export interface ViewOptions {
  readOnly: boolean;
}

export class MailboxView implements SelectedMailbox {
  readonly mailboxId: number;
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  readonly accountId: number;
  /** UIDNEXT at load time (SELECT's `OK [UIDNEXT]`). */
  readonly uidNextAtLoad: number;
  private uids: number[];
  private entries: Map<number, ViewEntry>;
  /** Every modseq up to this one has been taken into the view. */
  private knownModseq: number;
  /** Expunged in the store, not yet reported (their sequence numbers still stand). */
  private readonly pendingExpunges = new Set<number>();
  private readonly recent = new Set<number>();
  private readonly listeners = new Set<() => void>();
  private readonly unwatch: () => void;
  private syncing: Promise<void> = Promise.resolve();
  /** A change was notified since the last read of the store (true at first: the watch began after the snapshot). */
  private changed = true;
  /** performance.now() when the last read of the store began. */
  private readAt = 0;
  /** Set by ops when the client used a UID command; informational (UID is always sent). */
  usedUid = false;

  private constructor(
    private readonly ctx: SessionContext,
    snapshot: NonNullable<Awaited<ReturnType<typeof loadSnapshot>>>,
    options: ViewOptions,
  ) {
    const mb = snapshot.mailbox;
    this.mailboxId = mb.id;
    this.accountId = mb.accountId;
    this.name = mb.name;
    this.readOnly = options.readOnly;
    this.uidValidity = mb.uidValidity;
    this.uidNextAtLoad = mb.uidNext;
    this.knownModseq = mb.highestModseq;
    this.uids = snapshot.messages.map((m) => m.uid);
    this.entries = new Map(snapshot.messages.map((m) => [m.uid, m]));
    this.unwatch = ctx.notifier.watch(mb.id, () => {
      this.changed = true;
      for (const l of this.listeners) l();
    });
  }

  /** Loads the view of the account's mailbox `name` (INBOX case-insensitively), or null when there is none. */
  static async open(ctx: SessionContext, name: string, options: ViewOptions): Promise<MailboxView | null> {
    if (!ctx.account) return null;
    const snapshot = await loadSnapshot(ctx.db, ctx.account.id, name);
    return snapshot ? new MailboxView(ctx, snapshot, options) : null;
  }

  get exists(): number {
    return this.uids.length;
  }

  get highestModseq(): number {
    return this.knownModseq;
  }

  /** The largest UID in the view, 0 when empty. */
  get maxUid(): number {
    return this.uids[this.uids.length - 1] ?? 0;
  }

  /** Called (possibly coalesced) whenever the mailbox changes anywhere; for IDLE. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  uidOf(seq: number): number | undefined {
    return this.uids[seq - 1];
  }

  seqOf(uid: number): number | undefined {
    const i = lowerBound(this.uids, uid);
    return this.uids[i] === uid ? i + 1 : undefined;
  }

  entry(uid: number): ViewEntry | undefined {
    return this.entries.get(uid);
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  recentUids(): number[] {
    return this.uids.filter((u) => this.recent.has(u));
  }

  allUids(): readonly number[] {
    return this.uids;
  }

  /** Expunged elsewhere and not yet reported: FETCH skips them, SEARCH does not find them. */
  isPendingExpunge(uid: number): boolean {
    return this.pendingExpunges.has(uid);
  }

  /**
   * UIDs named by a set, ascending and without duplicates. Sequence numbers: `*` is EXISTS, a number
   * beyond it throws InvalidSequence. UIDs: `*` is the largest UID in the view, `5:*` with `*` < 5
   * means `*:5`, UIDs not in the view are left out. `$` is the saved search result (UIDs).
   */
  resolve(set: SequenceSet, uid: boolean): number[] {
    if (set.kind === "saved") {
      return this.ctx.savedSearch.filter((u) => this.entries.has(u)).sort((a, b) => a - b);
    }
    const out = new Set<number>();
    if (uid) {
      const star = this.maxUid;
      for (const r of set.ranges) {
        const a = r.from === "*" ? star : r.from;
        const b = r.to === "*" ? star : r.to;
        const lo = Math.min(a, b);
        const hi = Math.max(a, b);
        for (let i = lowerBound(this.uids, lo); i < this.uids.length && this.uids[i]! <= hi; i++) out.add(this.uids[i]!);
      }
    } else {
      const n = this.uids.length;
      for (const r of set.ranges) {
        if (n === 0 && (r.from === "*" || r.to === "*")) continue;
        const a = r.from === "*" ? n : r.from;
        const b = r.to === "*" ? n : r.to;
        if (a < 1 || a > n) throw new InvalidSequence(a);
        if (b < 1 || b > n) throw new InvalidSequence(b);
        for (let s = Math.min(a, b); s <= Math.max(a, b); s++) out.add(this.uids[s - 1]!);
      }
    }
    return [...out].sort((x, y) => x - y);
  }

  /**
   * Whether a UID lies in a UID set taken literally (for VANISHED of UIDs no longer in the view).
   * `*` is at least the largest UID in the view; VANISHED passes the UIDs expunged too (as Dovecot,
   * `*` then reaches UIDNEXT-1, so `1:*` covers an expunged highest UID).
   */
  inUidSet(set: SequenceSet, uid: number, highestAssigned = 0): boolean {
    if (set.kind === "saved") return this.ctx.savedSearch.includes(uid);
    const star = Math.max(this.maxUid, highestAssigned, 1);
    return set.ranges.some((r) => {
      const a = r.from === "*" ? star : r.from;
      const b = r.to === "*" ? star : r.to;
      return uid >= Math.min(a, b) && uid <= Math.max(a, b);
    });
  }

  /** An op reported (or set) these flags itself at this modseq. */
  noteFlags(uid: number, flags: string[], modseq: number): void {
    const e = this.entries.get(uid);
    if (e) {
      e.flags = flags;
      e.modseq = Math.max(e.modseq, modseq);
    }
  }

  /** An op expunged these and reported it itself: they leave the view now. */
  removeUids(uids: Iterable<number>): void {
    const gone = new Set(uids);
    if (gone.size === 0) return;
    this.uids = this.uids.filter((u) => !gone.has(u));
    for (const u of gone) {
      this.entries.delete(u);
      this.pendingExpunges.delete(u);
      this.recent.delete(u);
    }
  }

  /**
   * Writes EXPUNGE responses (descending sequence numbers) or, under QRESYNC, one VANISHED for
   * UIDs in the view, and removes them.
   */
  writeExpunged(out: ResponseSink, uids: number[]): void {
    const present = uids.filter((u) => this.entries.has(u));
    if (present.length === 0) return;
    if (this.ctx.enabled.has("QRESYNC")) {
      out.write(`* VANISHED ${compactSet(present.sort((a, b) => a - b))}\r\n`);
    } else {
      const seqs = present.map((u) => this.seqOf(u)!).sort((a, b) => b - a);
      out.write(seqs.map((s) => `* ${s} EXPUNGE\r\n`).join(""));
    }
    this.removeUids(present);
  }

  sync(out: ResponseSink, options: { expunges: boolean; ifChanged?: boolean }): Promise<void> {
    const run = this.syncing.then(() => this.doSync(out, options));
    this.syncing = run.catch(() => undefined);
    return run;
  }

  private async doSync(out: ResponseSink, options: { expunges: boolean; ifChanged?: boolean }): Promise<void> {
    const now = performance.now();
    if (options.ifChanged && !this.changed && now - this.readAt < MAX_UNREAD_MS) {
      // Nothing new to read, but expunges held back during FETCH/STORE/SEARCH may be due now.
      if (options.expunges && this.pendingExpunges.size > 0) this.writeUpdates(out, options, [], []);
      return;
    }
    // Cleared before the read: a change notified while it runs is read next time.
    this.changed = false;
    this.readAt = now;
    let rows: ChangeRow[];
    try {
      rows = await changesSince(this.ctx.db, this.mailboxId, this.knownModseq);
    } catch (err) {
      this.changed = true;
      throw err;
    }
    const modseqOn = this.ctx.enabled.has("CONDSTORE") || this.ctx.enabled.has("QRESYNC");
    let max = this.knownModseq;
    const arrived: ViewEntry[] = [];
    const changed: ViewEntry[] = [];
    const maxUid = this.maxUid;
    for (const r of rows) {
      const modseq = Number(r.modseq);
      const uid = Number(r.uid);
      if (modseq > max) max = modseq;
      const known = this.entries.get(uid);
      if (r.flags === null) {
        if (known) this.pendingExpunges.add(uid);
        continue;
      }
      if (known) {
        if (modseq > known.modseq && !this.pendingExpunges.has(uid)) {
          known.modseq = modseq;
          if (!sameFlags(known.flags, r.flags)) {
            known.flags = r.flags;
            changed.push(known);
          } else if (modseqOn) changed.push(known);
        }
      } else if (uid > maxUid) {
        arrived.push({ uid, modseq, flags: r.flags });
      }
    }
    this.knownModseq = max;
    this.writeUpdates(out, options, changed, arrived);
  }

  /** Writes (and applies) due expunges, flag changes and new messages. */
  private writeUpdates(out: ResponseSink, options: { expunges: boolean }, changed: ViewEntry[], arrived: ViewEntry[]): void {
    const modseqOn = this.ctx.enabled.has("CONDSTORE") || this.ctx.enabled.has("QRESYNC");
    let text = "";
    if (options.expunges && this.pendingExpunges.size > 0) {
      const gone = [...this.pendingExpunges];
      if (this.ctx.enabled.has("QRESYNC")) {
        text += `* VANISHED ${compactSet(gone.sort((a, b) => a - b))}\r\n`;
      } else {
        text += gone
          .map((u) => this.seqOf(u)!)
          .sort((a, b) => b - a)
          .map((s) => `* ${s} EXPUNGE\r\n`)
          .join("");
      }
      this.removeUids(gone);
    }
    for (const e of changed.sort((a, b) => a.uid - b.uid)) {
      const seq = this.seqOf(e.uid);
      if (seq === undefined) continue;
      text += `* ${seq} FETCH (UID ${e.uid} FLAGS ${flagList(e.flags)}${modseqOn ? ` MODSEQ (${e.modseq})` : ""})\r\n`;
    }
    if (arrived.length > 0) {
      arrived.sort((a, b) => a.uid - b.uid);
      for (const e of arrived) {
        this.uids.push(e.uid);
        this.entries.set(e.uid, e);
        this.recent.add(e.uid);
      }
      text += `* ${this.uids.length} EXISTS\r\n`;
      if (!this.ctx.enabled.has("IMAP4REV2")) text += `* ${this.recent.size} RECENT\r\n`;
    }
    if (text) out.write(text);
  }

  close(): void {
    this.unwatch();
    this.listeners.clear();
  }
}

function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((f) => s.has(f));
}

/** First index i with arr[i] >= x (arr ascending). */
function lowerBound(arr: readonly number[], x: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The session's view, when a mailbox is selected (ops of the selected state start with this). */
export function selectedView(ctx: SessionContext): MailboxView | null {
  return ctx.state === "selected" && ctx.selected instanceof MailboxView ? ctx.selected : null;
}

export const NOT_SELECTED = { status: "BAD", text: "no mailbox selected" } as const;
export const INVALID_SEQUENCE = { status: "BAD", text: "invalid sequence number" } as const;

/** `view.resolve` for an op: the UIDs, or null when a sequence number is out of range (answer INVALID_SEQUENCE). */
export function resolveForOp(view: MailboxView, set: SequenceSet, uid: boolean): number[] | null {
  try {
    return view.resolve(set, uid);
  } catch (err) {
    if (err instanceof InvalidSequence) return null;
    throw err;
  }
}
