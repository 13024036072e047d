/**
 * Store queries for the messages of one mailbox, as the selected state needs them. Every query is
 * keyed on `(mailbox_id, uid)` (the unique index) or `(mailbox_id, modseq)` (messages_mailbox_modseq,
 * expunged_messages_modseq), and a whole FETCH/SEARCH set is one statement.
 */
import type { Queryable } from "@postline/db";
import { contentOf, type MessageContent } from "@postline/mailstore";
import type { Envelope, MimePart } from "@postline/mime";

export interface MailboxRow {
  id: number;
  accountId: number;
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

/** One message as the view keeps it. */
export interface ViewEntry {
  uid: number;
  modseq: number;
  flags: string[];
}

export interface Snapshot {
  mailbox: MailboxRow;
  /** Ascending by UID. */
  messages: ViewEntry[];
}

/**
 * The mailbox and all its messages' (uid, modseq, flags) in one statement, hence one snapshot: the
 * view starts exactly at `highestModseq`.
 */
export async function loadSnapshot(db: Queryable, accountId: number, name: string): Promise<Snapshot | null> {
  const inbox = name.toUpperCase() === "INBOX";
  const r = await db.query<{
    id: number;
    account_id: number;
    name: string;
    uidvalidity: number;
    uidnext: number;
    highestmodseq: number;
    msgs: Array<[number, number, string[]]> | null;
  }>(
    `SELECT mb.id, mb.account_id, mb.name, mb.uidvalidity, mb.uidnext, mb.highestmodseq,
            (SELECT json_agg(json_build_array(m.uid, m.modseq, m.flags) ORDER BY m.uid) FROM messages m WHERE m.mailbox_id = mb.id) AS msgs
       FROM mailboxes mb
      WHERE mb.account_id = $1 AND (CASE WHEN $3::boolean THEN upper(mb.name) = 'INBOX' ELSE mb.name = $2 END)
      ORDER BY mb.id LIMIT 1`,
    [accountId, name, inbox],
  );
  const row = r.rows[0];
  if (!row) return null;
  return {
    mailbox: {
      id: Number(row.id),
      accountId: Number(row.account_id),
      name: row.name,
      uidValidity: Number(row.uidvalidity),
      uidNext: Number(row.uidnext),
      highestModseq: Number(row.highestmodseq),
    },
    messages: (row.msgs ?? []).map(([uid, modseq, flags]) => ({ uid: Number(uid), modseq: Number(modseq), flags })),
  };
}

export interface ChangeRow {
  uid: number;
  modseq: number;
  /** null: the message was expunged at `modseq`. */
  flags: string[] | null;
}

/** Everything that changed after `modseq`: live messages with a newer modseq, and tombstones. One statement. */
export async function changesSince(db: Queryable, mailboxId: number, modseq: number): Promise<ChangeRow[]> {
  const r = await db.query<{ uid: number; modseq: number; flags: string[] | null }>(
    `SELECT uid, modseq, flags FROM messages WHERE mailbox_id = $1 AND modseq > $2
     UNION ALL
     SELECT uid, modseq, NULL FROM expunged_messages WHERE mailbox_id = $1 AND modseq > $2`,
    [mailboxId, modseq],
  );
  return r.rows;
}

/** UIDs expunged after `modseq` (QRESYNC VANISHED (EARLIER)), ascending. */
export async function vanishedSince(db: Queryable, mailboxId: number, modseq: number): Promise<number[]> {
  const r = await db.query<{ uid: number }>(
    "SELECT uid FROM expunged_messages WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid",
    [mailboxId, modseq],
  );
  return r.rows.map((x) => Number(x.uid));
}

/** What FETCH may need of a message; optional columns are loaded only when asked for. */
export interface MessageMeta {
  id: number;
  uid: number;
  modseq: number;
  flags: string[];
  internalDate?: Date;
  size?: number;
  /** The stored message's bytes (blob and header prefix). */
  content?: MessageContent;
  envelope?: Envelope | null;
  body?: MimePart | null;
}

export interface MetaColumns {
  date?: boolean;
  size?: boolean;
  blob?: boolean;
  envelope?: boolean;
  structure?: boolean;
}

/**
 * Metadata of the given UIDs (ascending), one statement. A set that covers a UID range densely is
 * asked for as a range (`1:*` on 1,000 messages), otherwise as `= ANY(array)`.
 */
export async function loadMeta(db: Queryable, mailboxId: number, uids: number[], cols: MetaColumns, changedSince?: number): Promise<MessageMeta[]> {
  if (uids.length === 0) return [];
  const select = ["id", "uid", "modseq", "flags"];
  if (cols.date) select.push("internal_date");
  if (cols.size) select.push("size");
  if (cols.blob || cols.size) select.push("blob_hash", "header_prefix", "size");
  if (cols.envelope) select.push("envelope");
  if (cols.structure) select.push("bodystructure");
  const first = uids[0]!;
  const last = uids[uids.length - 1]!;
  const dense = uids.length > 16 && last - first + 1 <= uids.length * 2;
  const params: unknown[] = [mailboxId];
  let where: string;
  if (uids.length === 1) {
    params.push(first);
    where = "uid = $2";
  } else if (dense) {
    params.push(first, last);
    where = "uid BETWEEN $2 AND $3";
  } else {
    params.push(uids);
    where = "uid = ANY($2::bigint[])";
  }
  if (changedSince !== undefined) {
    params.push(changedSince);
    where += ` AND modseq > $${params.length}`;
  }
  const r = await db.query<Record<string, unknown>>(
    `SELECT ${[...new Set(select)].join(", ")} FROM messages WHERE mailbox_id = $1 AND ${where} ORDER BY uid`,
    params,
  );
  const wanted = dense ? new Set(uids) : null;
  const out: MessageMeta[] = [];
  for (const row of r.rows) {
    const uid = Number(row.uid);
    if (wanted && !wanted.has(uid)) continue;
    const m: MessageMeta = { id: Number(row.id), uid, modseq: Number(row.modseq), flags: row.flags as string[] };
    if (cols.date) m.internalDate = row.internal_date as Date;
    if (row.size !== undefined) m.size = Number(row.size);
    if (row.blob_hash !== undefined) m.content = contentOf(row.blob_hash as string, row.header_prefix as Uint8Array | null);
    if (cols.envelope) m.envelope = (row.envelope as Envelope | null) ?? null;
    if (cols.structure) m.body = (row.bodystructure as MimePart | null) ?? null;
    out.push(m);
  }
  return out;
}

/** Caches a structure parsed on demand (messages stored before the cache existed). */
export async function saveStructure(db: Queryable, messageId: number, envelope: Envelope, body: MimePart): Promise<void> {
  await db.query("UPDATE messages SET envelope = $2, bodystructure = $3 WHERE id = $1", [messageId, JSON.stringify(envelope), JSON.stringify(body)]);
}

/** Locks the mailbox row (the order every writer uses: mailbox → blobs → account). */
export async function lockMailbox(tx: Queryable, mailboxId: number): Promise<boolean> {
  const r = await tx.query("SELECT id FROM mailboxes WHERE id = $1 FOR UPDATE", [mailboxId]);
  return r.rows.length > 0;
}

/** Under the mailbox lock: the next modseq, taken from the mailbox row. */
export async function nextModseq(tx: Queryable, mailboxId: number): Promise<number> {
  const r = await tx.query<{ modseq: number }>(
    "UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq AS modseq",
    [mailboxId],
  );
  return Number(r.rows[0]!.modseq);
}

/** Writes new flag lists, all at one modseq. */
export async function writeFlags(tx: Queryable, mailboxId: number, modseq: number, changes: Array<{ uid: number; flags: string[] }>): Promise<void> {
  if (changes.length === 0) return;
  await tx.query(
    `UPDATE messages m SET flags = ARRAY(SELECT jsonb_array_elements_text(d.f)), modseq = $2
       FROM jsonb_to_recordset($3::jsonb) AS d(uid bigint, f jsonb)
      WHERE m.mailbox_id = $1 AND m.uid = d.uid`,
    [mailboxId, modseq, JSON.stringify(changes.map((c) => ({ uid: c.uid, f: c.flags })))],
  );
}

/** Canonical spelling of the system flags; keywords are kept as written. */
const SYSTEM_FLAGS = new Map(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"].map((f) => [f.toLowerCase(), f]));

export function canonicalFlag(flag: string): string {
  return SYSTEM_FLAGS.get(flag.toLowerCase()) ?? flag;
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const want = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === want);
}
