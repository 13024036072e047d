import type { Db, Queryable } from "@postline/db";
import { addBlobRef } from "./blob-refs.ts";
import type { CachedStructure } from "./structure.ts";

export interface AppendInput {
  accountId: number;
  mailboxId: number;
  /** The stored message; `size` is its exact byte length (RFC822.SIZE). */
  blob: { key: string; size: number };
  flags?: string[];
  internalDate: Date;
  structure: CachedStructure;
  /**
   * The accepted message's id (ULID). With it the append happens at most once per mailbox: a
   * second append of the same id returns the first one's row with `duplicate: true`.
   */
  mailId?: string;
}

export interface AppendResult {
  uid: number;
  modseq: number;
  /** messages.id */
  messageId: number;
  duplicate: boolean;
  /** The blob had no row before this append (see addBlobRef). */
  blobCreated: boolean;
}

export class MailboxNotFound extends Error {
  constructor(
    readonly accountId: number,
    readonly mailboxId: number,
  ) {
    super(`mailbox ${mailboxId} of account ${accountId} does not exist`);
    this.name = "MailboxNotFound";
  }
}

/**
 * Appends a message in one transaction: the next UID and modseq of the mailbox, the message row
 * with its cached structure, one more reference on the blob, and the size on the account's usage.
 * See appendMessageTx for the ordering that makes this safe under concurrency.
 */
export async function appendMessage(db: Db, input: AppendInput): Promise<AppendResult> {
  try {
    return await db.transaction((tx) => appendMessageTx(tx, input));
  } catch (err) {
    // The lock in appendMessageTx makes this unreachable for one mailbox; kept so that a concurrent
    // insert by some other path still ends as a duplicate rather than an error.
    if (input.mailId !== undefined && isUniqueViolation(err)) {
      const existing = await findByMailId(db, input.mailboxId, input.mailId);
      if (existing) return existing;
    }
    throw err;
  }
}

/**
 * appendMessage inside the caller's transaction (IMAP COPY/MOVE of several messages at once).
 *
 * The mailbox row is locked first, so appends to one mailbox are serialised: UIDs and modseqs come
 * from that row under its lock, which makes them unique and ascending in commit order. The
 * duplicate check runs after the lock is taken, so it sees every append committed before ours and
 * a duplicate never takes a UID. Locks are taken in the order mailbox → blob → account, the same
 * as removeMessages, so the two cannot deadlock each other.
 */
export async function appendMessageTx(tx: Queryable, input: AppendInput): Promise<AppendResult> {
  const locked = await tx.query<{ id: number }>("SELECT id FROM mailboxes WHERE id = $1 AND account_id = $2 FOR UPDATE", [
    input.mailboxId,
    input.accountId,
  ]);
  if (!locked.rows[0]) throw new MailboxNotFound(input.accountId, input.mailboxId);

  if (input.mailId !== undefined) {
    const existing = await findByMailId(tx, input.mailboxId, input.mailId);
    if (existing) return existing;
  }

  const next = await tx.query<{ uid: number; modseq: number }>(
    `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
      WHERE id = $1 RETURNING uidnext - 1 AS uid, highestmodseq AS modseq`,
    [input.mailboxId],
  );
  const { uid, modseq } = next.rows[0]!;
  // Before the message row: its foreign key on blobs is checked per statement.
  const { created } = await addBlobRef(tx, input.blob);
  const { envelope, body, search } = input.structure;
  const inserted = await tx.query<{ id: number }>(
    `INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_hash, mail_id, envelope, bodystructure,
                           subject, from_addr, to_addr, cc_addr, bcc_addr, sent_date, header_message_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
     RETURNING id`,
    [
      input.mailboxId,
      uid,
      modseq,
      input.flags ?? [],
      input.internalDate,
      input.blob.size,
      input.blob.key,
      input.mailId ?? null,
      JSON.stringify(envelope ?? null),
      JSON.stringify(body ?? null),
      search.subject ?? null,
      search.from ?? null,
      search.to ?? null,
      search.cc ?? null,
      search.bcc ?? null,
      validDate(search.date),
      search.messageId ?? null,
    ],
  );
  await tx.query("UPDATE accounts SET used_bytes = used_bytes + $2 WHERE id = $1", [input.accountId, input.blob.size]);
  return { uid, modseq, messageId: inserted.rows[0]!.id, duplicate: false, blobCreated: created };
}

async function findByMailId(db: Queryable, mailboxId: number, mailId: string): Promise<AppendResult | null> {
  const r = await db.query<{ id: number; uid: number; modseq: number }>(
    "SELECT id, uid, modseq FROM messages WHERE mailbox_id = $1 AND mail_id = $2",
    [mailboxId, mailId],
  );
  const row = r.rows[0];
  return row ? { uid: row.uid, modseq: row.modseq, messageId: row.id, duplicate: true, blobCreated: false } : null;
}

function validDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "23505";
}
