import type { Db, Queryable } from "@postline/db";
import { MailboxNotFound } from "./append.ts";

export interface RemoveInput {
  accountId: number;
  mailboxId: number;
  uids: number[];
}

export interface ExpungedMessage {
  uid: number;
  /** messages.id */
  messageId: number;
  mailId: string | null;
  size: number;
}

export interface RemoveResult {
  /** Ascending by UID; UIDs that were not in the mailbox are simply absent. */
  expunged: ExpungedMessage[];
  /** The mailbox's highest modseq afterwards: the modseq of this expunge when anything was removed. */
  modseq: number;
}

/**
 * Expunges messages in one transaction: deletes their rows, records the UIDs as vanished at a new
 * modseq, gives back one blob reference per message (a blob left unreferenced is stamped for
 * blobGc) and takes their sizes off the account's usage.
 */
export async function removeMessages(db: Db, input: RemoveInput): Promise<RemoveResult> {
  return db.transaction((tx) => removeMessagesTx(tx, input));
}

/** removeMessages inside the caller's transaction (IMAP MOVE). Locks: mailbox → blobs (by hash) → account. */
export async function removeMessagesTx(tx: Queryable, input: RemoveInput): Promise<RemoveResult> {
  const locked = await tx.query<{ highestmodseq: number }>(
    "SELECT highestmodseq FROM mailboxes WHERE id = $1 AND account_id = $2 FOR UPDATE",
    [input.mailboxId, input.accountId],
  );
  if (!locked.rows[0]) throw new MailboxNotFound(input.accountId, input.mailboxId);
  if (input.uids.length === 0) return { expunged: [], modseq: locked.rows[0].highestmodseq };

  const deleted = await tx.query<{ id: number; uid: number; mail_id: string | null; size: number; blob_hash: string }>(
    "DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) RETURNING id, uid, mail_id, size, blob_hash",
    [input.mailboxId, input.uids],
  );
  if (deleted.rows.length === 0) return { expunged: [], modseq: locked.rows[0].highestmodseq };

  const bumped = await tx.query<{ modseq: number }>(
    "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq AS modseq",
    [input.mailboxId],
  );
  const modseq = bumped.rows[0]!.modseq;
  const uids = deleted.rows.map((r) => r.uid);
  await tx.query(
    `INSERT INTO expunged_messages (mailbox_id, uid, modseq) SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u
     ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, expunged_at = now()`,
    [input.mailboxId, uids, modseq],
  );

  const refs = new Map<string, number>();
  for (const r of deleted.rows) refs.set(r.blob_hash, (refs.get(r.blob_hash) ?? 0) + 1);
  const hashes = [...refs.keys()].sort();
  // Row locks in hash order, so two expunges sharing blobs cannot deadlock.
  await tx.query("SELECT hash FROM blobs WHERE hash = ANY($1::text[]) ORDER BY hash FOR UPDATE", [hashes]);
  await tx.query(
    `UPDATE blobs SET refcount = GREATEST(blobs.refcount - g.n, 0),
                      unreferenced_at = CASE WHEN blobs.refcount - g.n <= 0 THEN now() ELSE blobs.unreferenced_at END
       FROM unnest($1::text[], $2::int[]) AS g(hash, n)
      WHERE blobs.hash = g.hash`,
    [hashes, hashes.map((h) => refs.get(h)!)],
  );
  const bytes = deleted.rows.reduce((sum, r) => sum + r.size, 0);
  await tx.query("UPDATE accounts SET used_bytes = GREATEST(used_bytes - $2, 0) WHERE id = $1", [input.accountId, bytes]);

  const expunged = deleted.rows.map((r) => ({ uid: r.uid, messageId: r.id, mailId: r.mail_id, size: r.size })).sort((a, b) => a.uid - b.uid);
  return { expunged, modseq };
}
