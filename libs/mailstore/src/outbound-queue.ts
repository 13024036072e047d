import { domainToASCII } from "node:url";
import type { Db, Queryable } from "@postline/db";
import type { DeliveryRetry } from "@postline/events";
import { releaseOutboundIfDone } from "./outbound.ts";

// The operator's view of the outbound queue (admin API `/v1/queue`, `postline queue`): remote
// recipients are the `deliveries` rows with a domain, each message has one `outbound_messages` row.
// Nothing here sends mail: "retry now" makes recipients due and returns the retry events to
// publish; the delivery workers claim due rows.

export const OUTBOUND_STATUSES = ["queued", "deferred", "delivered", "bounced", "deleted"] as const;
export type OutboundStatus = (typeof OUTBOUND_STATUSES)[number];
/** The live queue: recipients still waiting for delivery. */
export const WAITING_STATUSES: readonly OutboundStatus[] = ["queued", "deferred"];

/** What `deleteOutbound` records as the recipient's last error. */
export const DELETED_BY_OPERATOR = "deleted by an operator";

export interface OutboundRecipient {
  /** Opaque, increasing with age of the row: the listing's cursor. */
  cursor: string;
  mailId: string;
  recipient: string;
  sender: string;
  domain: string;
  status: OutboundStatus;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  remoteHost: string | null;
  remoteReply: string | null;
  lastAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** An SMTP transaction for the recipient has started and has no outcome yet. */
  inFlight: boolean;
  resends: number;
}

export interface OutboundMessage {
  mailId: string;
  source: "inbound" | "submission" | "dsn";
  sender: string;
  size: number;
  /** smtpUtf8, body, dsn {ret, envid, rcpt}: the envelope parameters delivery passes on. */
  envelope: Record<string, unknown>;
  receivedAt: Date;
  expiresAt: Date;
  createdAt: Date;
  recipients: OutboundRecipient[];
}

interface RecipientRow {
  id: string;
  mail_id: string;
  recipient: string;
  sender: string;
  domain: string;
  status: OutboundStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  remote_host: string | null;
  remote_reply: string | null;
  last_attempt_at: Date | null;
  created_at: Date;
  updated_at: Date;
  in_flight: boolean;
  resends: number;
}

const RECIPIENT_COLUMNS = `d.id::text AS id, d.mail_id, d.recipient, COALESCE(o.sender, d.sender) AS sender, d.domain, d.status, d.attempts,
  d.last_error, d.next_attempt_at, d.remote_host, d.remote_reply, d.last_attempt_at, d.created_at, d.updated_at,
  d.sending_since IS NOT NULL AS in_flight, d.resends`;

function toRecipient(r: RecipientRow): OutboundRecipient {
  return {
    cursor: r.id,
    mailId: r.mail_id,
    recipient: r.recipient,
    sender: r.sender,
    domain: r.domain,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    nextAttemptAt: r.next_attempt_at,
    remoteHost: r.remote_host,
    remoteReply: r.remote_reply,
    lastAttemptAt: r.last_attempt_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    inFlight: r.in_flight,
    resends: r.resends,
  };
}

/** A destination domain as stored in `deliveries.domain`: lower-case A-labels, no trailing dot. */
export function normaliseQueueDomain(domain: string): string {
  const lower = domain.trim().toLowerCase().replace(/\.$/, "");
  return domainToASCII(lower) || lower;
}

export interface OutboundListOptions {
  /** The statuses to list; default the live queue (queued, deferred); "all" for every status. */
  statuses?: readonly OutboundStatus[] | "all";
  /** Only recipients in this destination domain. */
  domain?: string;
  /** Keyset pagination, newest first: recipients older than this cursor (a previous row's `cursor`). */
  before?: string;
  limit?: number;
}

/** Remote recipients, newest first (the order delivery recorded them). */
export async function listOutbound(db: Queryable, options: OutboundListOptions = {}): Promise<OutboundRecipient[]> {
  const statuses = options.statuses === "all" ? null : [...(options.statuses ?? WAITING_STATUSES)];
  const r = await db.query<RecipientRow>(
    `SELECT ${RECIPIENT_COLUMNS}
       FROM deliveries d LEFT JOIN outbound_messages o ON o.mail_id = d.mail_id
      WHERE d.domain IS NOT NULL
        AND ($1::text[] IS NULL OR d.status = ANY($1))
        AND ($2::text IS NULL OR d.domain = $2)
        AND ($3::bigint IS NULL OR d.id < $3)
      ORDER BY d.id DESC LIMIT $4`,
    [statuses, options.domain === undefined ? null : normaliseQueueDomain(options.domain), options.before ?? null, options.limit ?? null],
  );
  return r.rows.map(toRecipient);
}

export interface OutboundDomainSummary {
  domain: string;
  /** Recipients waiting (queued + deferred). */
  waiting: number;
  queued: number;
  deferred: number;
  inFlight: number;
  /** When the oldest waiting recipient was queued. */
  oldestCreatedAt: Date;
  /** The most recent attempt's error among the waiting recipients (what it is stuck on). */
  lastError: string | null;
}

export interface OutboundSummary {
  /** Remote recipients by status (every status, 0 when none). */
  counts: Record<OutboundStatus, number>;
  /** Waiting recipients with an SMTP transaction under way. */
  inFlight: number;
  /** The destination domains with the most waiting recipients. */
  domains: OutboundDomainSummary[];
}

/** Counts by status and the destination domains with the most waiting recipients. */
export async function outboundSummary(db: Queryable, options: { topDomains?: number } = {}): Promise<OutboundSummary> {
  const counts = Object.fromEntries(OUTBOUND_STATUSES.map((s) => [s, 0])) as Record<OutboundStatus, number>;
  const c = await db.query<{ status: OutboundStatus; n: number; in_flight: number }>(
    `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE sending_since IS NOT NULL)::int AS in_flight
       FROM deliveries WHERE domain IS NOT NULL GROUP BY status`,
  );
  let inFlight = 0;
  for (const row of c.rows) {
    if (row.status in counts) counts[row.status] = row.n;
    if ((WAITING_STATUSES as readonly string[]).includes(row.status)) inFlight += row.in_flight;
  }
  const d = await db.query<{ domain: string; waiting: number; queued: number; deferred: number; in_flight: number; oldest: Date; last_error: string | null }>(
    `SELECT domain, count(*)::int AS waiting,
            count(*) FILTER (WHERE status = 'queued')::int AS queued,
            count(*) FILTER (WHERE status = 'deferred')::int AS deferred,
            count(*) FILTER (WHERE sending_since IS NOT NULL)::int AS in_flight,
            min(created_at) AS oldest,
            (array_agg(last_error ORDER BY last_attempt_at DESC NULLS LAST, updated_at DESC) FILTER (WHERE last_error IS NOT NULL))[1] AS last_error
       FROM deliveries
      WHERE domain IS NOT NULL AND status IN ('queued', 'deferred')
      GROUP BY domain
      ORDER BY waiting DESC, domain
      LIMIT $1`,
    [options.topDomains ?? 10],
  );
  return {
    counts,
    inFlight,
    domains: d.rows.map((r) => ({
      domain: r.domain,
      waiting: r.waiting,
      queued: r.queued,
      deferred: r.deferred,
      inFlight: r.in_flight,
      oldestCreatedAt: r.oldest,
      lastError: r.last_error,
    })),
  };
}

interface MessageRow {
  mail_id: string;
  source: OutboundMessage["source"];
  sender: string;
  size: string | number;
  envelope: Record<string, unknown>;
  received_at: Date;
  expires_at: Date;
  created_at: Date;
}

/** The outbound message with all its remote recipients (oldest first); null when unknown. */
export async function getOutbound(db: Queryable, mailId: string): Promise<OutboundMessage | null> {
  const m = await db.query<MessageRow>(
    "SELECT mail_id, source, sender, size, envelope, received_at, expires_at, created_at FROM outbound_messages WHERE mail_id = $1",
    [mailId],
  );
  const row = m.rows[0];
  if (!row) return null;
  const r = await db.query<RecipientRow>(
    `SELECT ${RECIPIENT_COLUMNS}
       FROM deliveries d LEFT JOIN outbound_messages o ON o.mail_id = d.mail_id
      WHERE d.mail_id = $1 AND d.domain IS NOT NULL ORDER BY d.id`,
    [mailId],
  );
  return {
    mailId: row.mail_id,
    source: row.source,
    sender: row.sender,
    size: Number(row.size),
    envelope: row.envelope,
    receivedAt: row.received_at,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    recipients: r.rows.map(toRecipient),
  };
}

/**
 * not_found: no such outbound message (or it has no such remote recipient); nothing_waiting: none
 * of the (chosen) recipients is queued or deferred (and not being sent right now).
 */
export type QueueActionOutcome<T> = { outcome: "done"; recipients: OutboundRecipient[]; value: T } | { outcome: "not_found" | "nothing_waiting" };

async function exists(tx: Queryable, mailId: string, recipient: string | null): Promise<boolean> {
  const r = await tx.query(
    recipient === null
      ? "SELECT 1 FROM outbound_messages WHERE mail_id = $1"
      : "SELECT 1 FROM outbound_messages o JOIN deliveries d ON d.mail_id = o.mail_id AND d.domain IS NOT NULL AND d.recipient = $2 WHERE o.mail_id = $1",
    recipient === null ? [mailId] : [mailId, recipient],
  );
  return r.rows.length > 0;
}

/**
 * "Retry now": the message's waiting recipients (or the one given) become due at once — their
 * lease is given up so any delivery process may claim them — and one `deliveryRetry` event each
 * is returned for the caller to publish on `retryTopic("1m")`. A recipient whose SMTP transaction
 * is under way is left to it. Sends nothing.
 */
export async function retryOutbound(db: Db, mailId: string, options: { recipient?: string } = {}): Promise<QueueActionOutcome<DeliveryRetry[]>> {
  const recipient = options.recipient?.toLowerCase() ?? null;
  return db.transaction(async (tx) => {
    if (!(await exists(tx, mailId, recipient))) return { outcome: "not_found" };
    const r = await tx.query<RecipientRow>(
      `UPDATE deliveries d SET next_attempt_at = now(), lease_owner = NULL, lease_expires = NULL, updated_at = now()
         FROM outbound_messages o
        WHERE d.mail_id = $1 AND o.mail_id = d.mail_id AND d.domain IS NOT NULL AND d.status IN ('queued', 'deferred')
          AND d.sending_since IS NULL AND ($2::text IS NULL OR d.recipient = $2)
        RETURNING ${RECIPIENT_COLUMNS}`,
      [mailId, recipient],
    );
    if (r.rows.length === 0) return { outcome: "nothing_waiting" };
    const rows = r.rows.sort((a, b) => Number(a.id) - Number(b.id)).map(toRecipient);
    const events: DeliveryRetry[] = rows.map((x) => ({ v: 1, id: x.mailId, rcpt: x.recipient, attempt: x.attempts, notBefore: x.nextAttemptAt!.toISOString() }));
    return { outcome: "done", recipients: rows, value: events };
  });
}

/**
 * Deletes the message's waiting recipients (or the one given) from the queue: status `deleted`,
 * last error "deleted by an operator", lease cleared, no DSN. The outbound message gives back its
 * blob reference in the same transaction once no recipient waits any more.
 */
export async function deleteOutbound(db: Db, mailId: string, options: { recipient?: string } = {}): Promise<QueueActionOutcome<{ released: boolean }>> {
  const recipient = options.recipient?.toLowerCase() ?? null;
  return db.transaction(async (tx) => {
    if (!(await exists(tx, mailId, recipient))) return { outcome: "not_found" };
    const r = await tx.query<RecipientRow>(
      `UPDATE deliveries d SET status = 'deleted', last_error = $3, next_attempt_at = NULL,
              lease_owner = NULL, lease_expires = NULL, sending_since = NULL, updated_at = now()
         FROM outbound_messages o
        WHERE d.mail_id = $1 AND o.mail_id = d.mail_id AND d.domain IS NOT NULL AND d.status IN ('queued', 'deferred')
          AND ($2::text IS NULL OR d.recipient = $2)
        RETURNING ${RECIPIENT_COLUMNS}`,
      [mailId, recipient, DELETED_BY_OPERATOR],
    );
    if (r.rows.length === 0) return { outcome: "nothing_waiting" };
    const released = await releaseOutboundIfDone(tx, mailId);
    return { outcome: "done", recipients: r.rows.sort((a, b) => Number(a.id) - Number(b.id)).map(toRecipient), value: { released } };
  });
}
