/**
 * What never changes about a message of a mailbox, by (mailbox id, UID), shared by the sessions of
 * this process: its row id, size and blob. UIDs are never reused in a mailbox (UIDNEXT only grows,
 * a recreated mailbox is a new row), so an entry can only outlive its message, never lie about it.
 *
 * A FETCH that asks for nothing else (UID, RFC822.SIZE, whole-message BODY.PEEK[] / BINARY.PEEK[],
 * the usual "download this message" of a client that listed the mailbox first) is then answered
 * without a database query: its flags are not part of the response and the view is the source of
 * the set. A message another session expunged a moment ago may so still be served, as RFC 9051
 * allows; if its blob is gone meanwhile the op falls back to the store (see op/fetch.ts).
 */
import type { FetchAttribute } from "../../protocol/types.ts";
import type { MessageContent } from "@postline/mailstore";
import type { MessageMeta } from "../core/messages.ts";

interface Fixed {
  id: number;
  size: number;
  content: MessageContent;
}

const MAX_ENTRIES = 200_000;
/** By mailbox id, then UID. Maps iterate in insertion order: the mailboxes first seen go first. */
const cache = new Map<number, Map<number, Fixed>>();
let entries = 0;

/** Takes the fixed part of rows loaded with size and blob. */
export function rememberMeta(mailboxId: number, metas: readonly MessageMeta[]): void {
  let mailbox = cache.get(mailboxId);
  if (!mailbox) {
    while (entries >= MAX_ENTRIES && cache.size > 0) {
      const [oldest, map] = cache.entries().next().value as [number, Map<number, Fixed>];
      cache.delete(oldest);
      entries -= map.size;
    }
    cache.set(mailboxId, (mailbox = new Map()));
  }
  for (const m of metas) {
    // Full (one huge mailbox): what is not cached is read from the store as before.
    if (entries >= MAX_ENTRIES) break;
    if (m.size === undefined || m.content === undefined || mailbox.has(m.uid)) continue;
    mailbox.set(m.uid, { id: m.id, size: m.size, content: m.content });
    entries++;
  }
}

/**
 * Metadata of `uids` from the cache, with flags and modseq as the view last saw them; null unless
 * every UID is cached.
 */
export function cachedMeta(mailboxId: number, uids: readonly number[], entry: (uid: number) => { modseq: number; flags: string[] } | undefined): MessageMeta[] | null {
  const mailbox = cache.get(mailboxId);
  if (!mailbox) return null;
  const out: MessageMeta[] = [];
  for (const uid of uids) {
    const fixed = mailbox.get(uid);
    const e = entry(uid);
    if (!fixed || !e) return null;
    out.push({ id: fixed.id, uid, modseq: e.modseq, flags: e.flags, size: fixed.size, content: fixed.content });
  }
  return out;
}

/** Whether a FETCH needs only what the cache holds (and sets no flag). */
export function servedByMetaCache(attrs: readonly FetchAttribute[]): boolean {
  return attrs.every((a) => {
    switch (a.kind) {
      case "UID":
      case "RFC822.SIZE":
        return true;
      case "BODY[]":
        return a.peek && a.section.part.length === 0 && a.section.text === undefined;
      case "BINARY":
      case "BINARY.SIZE":
        return a.part.length === 0 && (a.kind === "BINARY.SIZE" || a.peek);
      default:
        return false;
    }
  });
}
