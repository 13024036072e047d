import type { Db, Queryable } from "@postline/db";
import type { MailClassified, MailClassifiedInput, Verdict } from "@postline/events";
import { addBlobRef, releaseBlobRef } from "./blob-refs.ts";

/** The symbol a released message carries into delivery (and into its X-Postline-Spam header). */
export const QUARANTINE_RELEASED = "QUARANTINE_RELEASED";

export interface QuarantineEntry {
  mailId: string;
  source: "inbound" | "submission";
  sender: string;
  recipients: string[];
  action: "quarantine" | "reject";
  score: number;
  verdict: Verdict;
  blob: { key: string; size: number };
  subject: string | null;
  from: string | null;
  receivedAt: Date;
  createdAt: Date;
  releasedAt: Date | null;
  releasedBy: string | null;
}

interface QuarantineRow {
  mail_id: string;
  source: "inbound" | "submission";
  sender: string;
  recipients: string[];
  action: "quarantine" | "reject";
  score: number;
  verdict: Verdict;
  blob_key: string;
  size: number;
  subject: string | null;
  from_addr: string | null;
  received_at: Date;
  created_at: Date;
  released_at: Date | null;
  released_by: string | null;
}

const COLUMNS =
  "mail_id, source, sender, recipients, action, score, verdict, blob_key, size, subject, from_addr, received_at, created_at, released_at, released_by";

function toEntry(r: QuarantineRow): QuarantineEntry {
  return {
    mailId: r.mail_id,
    source: r.source,
    sender: r.sender,
    recipients: r.recipients,
    action: r.action,
    score: r.score,
    verdict: r.verdict,
    blob: { key: r.blob_key, size: r.size },
    subject: r.subject,
    from: r.from_addr,
    receivedAt: r.received_at,
    createdAt: r.created_at,
    releasedAt: r.released_at,
    releasedBy: r.released_by,
  };
}

/**
 * Keeps a classified message in quarantine, holding one reference on its blob. Idempotent: a
 * message already quarantined (or quarantined and released) is left as it is (`created: false`).
 */
export async function quarantineMessage(
  db: Db,
  event: MailClassified,
  headers: { subject?: string | null; from?: string | null } = {},
): Promise<{ created: boolean }> {
  const action = event.verdict.action;
  if (action !== "quarantine" && action !== "reject") throw new Error(`a ${action} verdict is not quarantined`);
  return db.transaction(async (tx) => {
    const r = await tx.query(
      `INSERT INTO quarantine (mail_id, source, sender, recipients, action, score, verdict, event, blob_key, size, subject, from_addr, received_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
       ON CONFLICT (mail_id) DO NOTHING RETURNING mail_id`,
      [
        event.id,
        event.source,
        event.envelope.mailFrom,
        event.envelope.rcptTo.map((r) => r.toLowerCase()),
        action,
        event.verdict.score,
        JSON.stringify(event.verdict),
        JSON.stringify(event),
        event.blob.key,
        event.blob.size,
        headers.subject ?? null,
        headers.from ?? null,
        new Date(event.receivedAt),
      ],
    );
    if (r.rows.length === 0) return { created: false };
    await addBlobRef(tx, { key: event.blob.key, size: event.blob.size });
    return { created: true };
  });
}

export interface QuarantineListOptions {
  /** held: not released (default); released; all. */
  status?: "held" | "released" | "all";
  /** Only messages with this envelope recipient. */
  recipient?: string;
  /** Keyset pagination, newest first: entries older than this mail id. */
  after?: string;
  limit?: number;
}

/** Quarantined messages, newest first (mail ids are ULIDs, so they sort by acceptance time). */
export async function listQuarantine(db: Queryable, options: QuarantineListOptions = {}): Promise<QuarantineEntry[]> {
  const status = options.status ?? "held";
  const r = await db.query<QuarantineRow>(
    `SELECT ${COLUMNS} FROM quarantine
      WHERE ($1 = 'all' OR ($1 = 'held') = (released_at IS NULL))
        AND ($2::text IS NULL OR $2 = ANY(recipients))
        AND ($3::text IS NULL OR mail_id < $3)
      ORDER BY mail_id DESC LIMIT $4`,
    [status, options.recipient?.toLowerCase() ?? null, options.after ?? null, options.limit ?? null],
  );
  return r.rows.map(toEntry);
}

export async function getQuarantine(db: Queryable, mailId: string): Promise<QuarantineEntry | null> {
  const r = await db.query<QuarantineRow>(`SELECT ${COLUMNS} FROM quarantine WHERE mail_id = $1`, [mailId]);
  return r.rows[0] ? toEntry(r.rows[0]) : null;
}

/**
 * Marks the message released (the first release's time and name are kept) and returns the event to
 * publish on `mail.classified`: the original one with the verdict turned into `deliver` and the
 * QUARANTINE_RELEASED symbol added, so delivery delivers it normally. Releasing again returns the
 * same event again: delivery is idempotent, and that is how a release whose publish failed is retried.
 * The entry keeps its blob reference until delivery has stored the message (finishRelease).
 */
export async function releaseQuarantine(db: Queryable, mailId: string, by: string): Promise<{ entry: QuarantineEntry; event: MailClassifiedInput } | null> {
  const r = await db.query<QuarantineRow & { event: MailClassified }>(
    `UPDATE quarantine SET released_at = COALESCE(released_at, now()), released_by = COALESCE(released_by, $2)
      WHERE mail_id = $1 RETURNING ${COLUMNS}, event`,
    [mailId, by],
  );
  const row = r.rows[0];
  if (!row) return null;
  const original = row.event;
  const symbols = original.verdict.symbols.filter((s) => s.name !== QUARANTINE_RELEASED);
  const event: MailClassifiedInput = {
    ...original,
    verdict: {
      ...original.verdict,
      action: "deliver",
      symbols: [...symbols, { name: QUARANTINE_RELEASED, score: 0, detail: `${row.action} released by ${row.released_by ?? by}` }],
    },
  };
  return { entry: toEntry(row), event };
}

export type DiscardOutcome = "discarded" | "not_found" | "release_pending";

/**
 * Removes the entry and gives back its blob reference; the message's deliveries become `deleted`.
 * A released entry is removed only once delivery has stored it (`release_pending` before that).
 */
export async function discardQuarantine(db: Db, mailId: string): Promise<DiscardOutcome> {
  return db.transaction(async (tx) => {
    const r = await tx.query<{ blob_key: string; holds_blob: boolean; released: boolean }>(
      "SELECT blob_key, holds_blob, released_at IS NOT NULL AS released FROM quarantine WHERE mail_id = $1 FOR UPDATE",
      [mailId],
    );
    const row = r.rows[0];
    if (!row) return "not_found";
    if (row.released && row.holds_blob) return "release_pending";
    await tx.query("DELETE FROM quarantine WHERE mail_id = $1", [mailId]);
    if (row.holds_blob) await releaseBlobRef(tx, row.blob_key);
    await tx.query("UPDATE deliveries SET status = 'deleted', updated_at = now() WHERE mail_id = $1 AND status = 'quarantined'", [mailId]);
    return "discarded";
  });
}

/** After delivery stored a released message: the entry gives back its blob reference. Idempotent. */
export async function finishRelease(db: Db, mailId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await tx.query<{ blob_key: string }>(
      "UPDATE quarantine SET holds_blob = false WHERE mail_id = $1 AND released_at IS NOT NULL AND holds_blob RETURNING blob_key",
      [mailId],
    );
    if (r.rows[0]) await releaseBlobRef(tx, r.rows[0].blob_key);
  });
}
