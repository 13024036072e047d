import type { Db, Queryable } from "@postline/db";
import type { CachedStructure } from "./structure.ts";

export interface AppendInput {
  accountId: number;
  mailboxId: number;
  /**
   * The stored message: `prefix` (header fields kept in the message row, see content.ts) followed
   * by the blob's bytes; `size` is the whole message's exact byte length (RFC822.SIZE), prefix included.
   */
  blob: { key: string; size: number; prefix?: Buffer | null };
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
  /**
   * The blob's content had been deleted by the collector (its row was a tombstone, now referenced
   * again): the caller must make sure the content is stored (see blobGc).
   */
  blobCollected: boolean;
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
 * One statement (postline_append_message, migrations 0011 and 0012), so one round trip and its own
 * transaction. See appendMessageTx for the ordering that makes this safe under concurrency.
 */
export async function appendMessage(db: Db, input: AppendInput): Promise<AppendResult> {
  try {
    return await appendMessageTx(db, input);
  } catch (err) {
    // The lock in postline_append_message makes this unreachable for one mailbox; kept so that a
    // concurrent insert by some other path still ends as a duplicate rather than an error.
    if (input.mailId !== undefined && isUniqueViolation(err)) {
      const existing = await findByMailId(db, input.mailboxId, input.mailId);
      if (existing) return existing;
    }
    throw err;
  }
}

/**
 * appendMessage inside the caller's transaction (IMAP COPY/MOVE of several messages at once); with
 * a Db rather than a transaction, the one statement is a transaction of its own.
 *
 * postline_append_message (libs/db/migrations/0011_append_function.sql, 0012_header_prefix.sql) locks the mailbox row
 * first, so appends to one mailbox are serialised: UIDs and modseqs come from that row under its
 * lock, which makes them unique and ascending in commit order. The duplicate check runs after the
 * lock is taken, so it sees every append committed before ours and a duplicate never takes a UID.
 * Locks are taken in the order mailbox → blob → account, the same as removeMessages, so the two
 * cannot deadlock each other. A missing mailbox changes nothing and leaves the caller's transaction
 * usable (MailboxNotFound is thrown here, not raised in SQL).
 */
export async function appendMessageTx(tx: Queryable, input: AppendInput): Promise<AppendResult> {
  const call = appendCall(input, 3);
  const r = await tx.query<AppendRow>(`SELECT ${APPEND_COLUMNS} FROM ${call.sql("$1::bigint", "$2::bigint")}`, [input.accountId, input.mailboxId, ...call.params]);
  const result = appendResultOf(r.rows[0]!);
  if (!result) throw new MailboxNotFound(input.accountId, input.mailboxId);
  return result;
}

/** The columns of postline_append_message's result row, as a select list. */
export const APPEND_COLUMNS = "o_found, o_uid, o_modseq, o_message_id, o_duplicate, o_blob_collected";

/** A row of postline_append_message. */
export interface AppendRow {
  o_found: boolean;
  o_uid: number;
  o_modseq: number;
  o_message_id: number;
  o_duplicate: boolean;
  o_blob_collected: boolean;
}

/**
 * A call of postline_append_message for a statement of the caller's (delivery chooses the mailbox
 * in the same statement): `sql(account, mailbox)` is the call with the given SQL for the first two
 * arguments and $first… for the rest, `params` those parameters' values.
 */
export function appendCall(input: Omit<AppendInput, "accountId" | "mailboxId">, first: number): { sql(account: string, mailbox: string): string; params: unknown[] } {
  const { envelope, body, search } = input.structure;
  const types = ["text", "bigint", "bytea", "text[]", "timestamptz", "text", "jsonb", "jsonb", "text", "text", "text", "text", "text", "timestamptz", "text"];
  const args = types.map((t, i) => `$${first + i}::${t}`).join(", ");
  return {
    sql: (account, mailbox) => `postline_append_message(${account}, ${mailbox}, ${args})`,
    params: [
      input.blob.key,
      input.blob.size,
      input.blob.prefix ?? null,
      input.flags ?? [],
      input.internalDate,
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
  };
}

/** The result of a postline_append_message row; null when the mailbox did not exist for the account. */
export function appendResultOf(row: AppendRow): AppendResult | null {
  if (!row.o_found) return null;
  return { uid: row.o_uid, modseq: row.o_modseq, messageId: row.o_message_id, duplicate: row.o_duplicate, blobCollected: row.o_blob_collected };
}

async function findByMailId(db: Queryable, mailboxId: number, mailId: string): Promise<AppendResult | null> {
  const r = await db.query<{ id: number; uid: number; modseq: number }>(
    "SELECT id, uid, modseq FROM messages WHERE mailbox_id = $1 AND mail_id = $2",
    [mailboxId, mailId],
  );
  const row = r.rows[0];
  return row ? { uid: row.uid, modseq: row.modseq, messageId: row.id, duplicate: true, blobCollected: false } : null;
}

function validDate(value: string | Date | null | undefined): Date | null {
  if (value === null || value === undefined) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "23505";
}
