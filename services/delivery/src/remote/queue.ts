import { domainToASCII } from "node:url";
import type { Db } from "@postline/db";
import type { Envelope, MailClassified } from "@postline/events";
import { addBlobRef, releaseOutboundIfDone } from "@postline/mailstore";

/**
 * The outbound queue in PostgreSQL: one `outbound_messages` row a message, one `deliveries` row a
 * remote recipient. A process owns the recipients it works on through a lease (lease_owner,
 * lease_expires) that it renews while it runs; when it dies, the lease runs out and another process
 * takes them over. `sending_since` marks an SMTP transaction under way, so a takeover knows the
 * message may have gone out already and counts the re-send.
 */

/** Recipients of one message at one destination domain: the unit of an SMTP attempt. */
export interface OutboundJob {
  mailId: string;
  domain: string;
  recipients: string[];
}

export interface OutboundMessage {
  mailId: string;
  source: "inbound" | "submission" | "dsn";
  sender: string;
  blobKey: string;
  size: number;
  envelope: Pick<Envelope, "smtpUtf8" | "body" | "dsn">;
  receivedAt: Date;
  expiresAt: Date;
}

export interface ClaimedRecipient {
  recipient: string;
  /** Attempts started so far, this one included. */
  attempts: number;
  /** A previous transaction for it was under way when its owner stopped: this may send it twice. */
  resend: boolean;
  delayNotified: boolean;
}

/** The destination domain of an address: lower-case, IDNA A-labels. */
export function destinationDomain(address: string): string {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}

export function groupJobs(rows: { mailId: string; recipient: string; domain: string }[]): OutboundJob[] {
  const jobs = new Map<string, OutboundJob>();
  for (const r of rows) {
    const key = `${r.mailId} ${r.domain}`;
    const job = jobs.get(key) ?? { mailId: r.mailId, domain: r.domain, recipients: [] };
    job.recipients.push(r.recipient);
    jobs.set(key, job);
  }
  return [...jobs.values()];
}

export class OutboundQueue {
  constructor(
    private readonly db: Db,
    /** This process's identity as a lease owner. */
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /**
   * Queues a classified message's remote recipients, owned by this process (one transaction: the
   * message row with its blob reference, and the recipients' rows). Returns the jobs to run now: the
   * recipients that are new (or released from quarantine); recipients queued before (a redelivered
   * event) are left to their owner, or to a takeover once its lease ran out.
   */
  async enqueue(event: MailClassified, recipients: string[], lifetimeMs: number): Promise<OutboundJob[]> {
    if (recipients.length === 0) return [];
    const rows = await this.db.transaction(async (tx) => {
      const inserted = await tx.query(
        `INSERT INTO outbound_messages (mail_id, source, sender, blob_key, size, envelope, received_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7::timestamptz + make_interval(secs => $8))
         ON CONFLICT (mail_id) DO NOTHING`,
        [
          event.id,
          event.source,
          event.envelope.mailFrom,
          event.blob.key,
          event.blob.size,
          JSON.stringify({ smtpUtf8: event.envelope.smtpUtf8, body: event.envelope.body, dsn: event.envelope.dsn }),
          event.receivedAt,
          lifetimeMs / 1000,
        ],
      );
      if (inserted.rowCount === 1) await addBlobRef(tx, { key: event.blob.key, size: event.blob.size });
      const r = await tx.query<{ recipient: string; domain: string }>(
        `INSERT INTO deliveries (mail_id, recipient, sender, status, domain, next_attempt_at, lease_owner, lease_expires)
         SELECT $1, r, $2, 'queued', d, now(), $5, now() + make_interval(secs => $6)
           FROM unnest($3::text[], $4::text[]) AS x(r, d)
         ON CONFLICT (mail_id, recipient) DO UPDATE
            SET status = 'queued', domain = EXCLUDED.domain, next_attempt_at = now(), lease_owner = EXCLUDED.lease_owner,
                lease_expires = EXCLUDED.lease_expires, updated_at = now()
          WHERE deliveries.status = 'quarantined'
         RETURNING recipient, domain`,
        [event.id, event.envelope.mailFrom, recipients, recipients.map(destinationDomain), this.owner, this.leaseMs / 1000],
      );
      return r.rows;
    });
    return groupJobs(rows.map((r) => ({ mailId: event.id, recipient: r.recipient, domain: r.domain })));
  }

  async message(mailId: string): Promise<OutboundMessage | null> {
    const r = await this.db.query<{
      mail_id: string;
      source: OutboundMessage["source"];
      sender: string;
      blob_key: string;
      size: string;
      envelope: OutboundMessage["envelope"];
      received_at: Date;
      expires_at: Date;
    }>("SELECT mail_id, source, sender, blob_key, size, envelope, received_at, expires_at FROM outbound_messages WHERE mail_id = $1", [mailId]);
    const row = r.rows[0];
    if (!row) return null;
    return {
      mailId: row.mail_id,
      source: row.source,
      sender: row.sender,
      blobKey: row.blob_key,
      size: Number(row.size),
      envelope: row.envelope,
      receivedAt: new Date(row.received_at),
      expiresAt: new Date(row.expires_at),
    };
  }

  /**
   * Takes the job's recipients that are still due for an SMTP transaction starting now: waiting
   * (queued or deferred), due, and owned by this process or by nobody alive. A row another
   * transaction holds (a lease renewal, another process's claim) is waited for and checked again,
   * never skipped: a skipped row would stay owned by this process with nobody sending it. Rows are
   * locked in id order, as the renewal locks them, so the two cannot deadlock.
   */
  async claimForSending(job: OutboundJob): Promise<ClaimedRecipient[]> {
    const r = await this.db.query<{ recipient: string; attempts: number; resend: boolean; delay_notified: boolean }>(
      `UPDATE deliveries d
          SET lease_owner = $3, lease_expires = now() + make_interval(secs => $4), sending_since = now(),
              attempts = d.attempts + 1, last_attempt_at = now(), updated_at = now(),
              resends = d.resends + CASE WHEN s.prev IS NOT NULL THEN 1 ELSE 0 END
         FROM (SELECT id, sending_since AS prev FROM deliveries
                WHERE mail_id = $1 AND recipient = ANY($2::text[]) AND status IN ('queued', 'deferred')
                  AND next_attempt_at <= now() + interval '2 seconds'
                  AND (lease_owner = $3 OR lease_owner IS NULL OR lease_expires < now())
                ORDER BY id
                FOR UPDATE) s
        WHERE d.id = s.id
        RETURNING d.recipient, d.attempts, s.prev IS NOT NULL AS resend, d.delay_notified_at IS NOT NULL AS delay_notified`,
      [job.mailId, job.recipients, this.owner, this.leaseMs / 1000],
    );
    return r.rows.map((row) => ({ recipient: row.recipient, attempts: row.attempts, resend: row.resend, delayNotified: row.delay_notified }));
  }

  /**
   * Takes ownership of a waiting recipient that is due (a retry record came in), without starting a
   * transaction yet. Null when it is not waiting, not due, or owned by a live process. "Due" allows
   * two seconds of clock difference between the process that scheduled the retry and the database.
   */
  async claimDue(mailId: string, recipient: string): Promise<OutboundJob | null> {
    const r = await this.db.query<{ domain: string }>(
      `UPDATE deliveries SET lease_owner = $3, lease_expires = now() + make_interval(secs => $4), updated_at = now()
        WHERE mail_id = $1 AND recipient = $2 AND domain IS NOT NULL AND status IN ('queued', 'deferred')
          AND next_attempt_at <= now() + interval '2 seconds'
          AND (lease_owner = $3 OR lease_owner IS NULL OR lease_expires < now())
        RETURNING domain`,
      [mailId, recipient, this.owner, this.leaseMs / 1000],
    );
    const row = r.rows[0];
    return row ? { mailId, domain: row.domain, recipients: [recipient] } : null;
  }

  /**
   * Takes over what nobody is working on: recipients whose owner's lease ran out (it died), and due
   * recipients owned by nobody whose retry record is overdue by `overdueMs` (lost, or waiting behind
   * a later record). At most `limit` recipients a call.
   */
  async takeOver(overdueMs: number, limit = 500): Promise<{ jobs: OutboundJob[]; fromDeadOwners: number }> {
    const r = await this.db.query<{ mail_id: string; recipient: string; domain: string; dead: boolean }>(
      `UPDATE deliveries d SET lease_owner = $1, lease_expires = now() + make_interval(secs => $2), updated_at = now()
         FROM (SELECT id, lease_owner IS NOT NULL AS dead FROM deliveries
                WHERE domain IS NOT NULL AND status IN ('queued', 'deferred')
                  AND ((lease_owner IS NOT NULL AND lease_expires < now())
                       OR (lease_owner IS NULL AND next_attempt_at < now() - make_interval(secs => $3)))
                ORDER BY next_attempt_at
                LIMIT $4
                FOR UPDATE SKIP LOCKED) s
        WHERE d.id = s.id
        RETURNING d.mail_id, d.recipient, d.domain, s.dead`,
      [this.owner, this.leaseMs / 1000, overdueMs / 1000, limit],
    );
    return {
      jobs: groupJobs(r.rows.map((row) => ({ mailId: row.mail_id, recipient: row.recipient, domain: row.domain }))),
      fromDeadOwners: r.rows.filter((row) => row.dead).length,
    };
  }

  /**
   * Extends the lease on the recipients this process still holds (waiting in its dispatcher or
   * being sent), and only those: a row it owns but no longer holds (an attempt that failed before
   * recording anything) runs out of lease and is taken over by a sweep.
   */
  async renewLeases(held: OutboundJob[]): Promise<number> {
    const pairs = held.flatMap((job) => job.recipients.map((recipient) => [job.mailId, recipient] as const));
    if (pairs.length === 0) return 0;
    const r = await this.db.query(
      `UPDATE deliveries d SET lease_expires = now() + make_interval(secs => $2)
         FROM (SELECT id FROM deliveries
                WHERE (mail_id, recipient) IN (SELECT * FROM unnest($3::text[], $4::text[]))
                  AND lease_owner = $1 AND status IN ('queued', 'deferred')
                ORDER BY id
                FOR UPDATE) s
        WHERE d.id = s.id`,
      [this.owner, this.leaseMs / 1000, pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    return r.rowCount ?? 0;
  }

  /** On shutdown: what this process owns but has not started sending is free for others at once. */
  async releaseWaiting(): Promise<void> {
    await this.db.query(
      `UPDATE deliveries SET lease_expires = now() - interval '1 second'
        WHERE lease_owner = $1 AND status IN ('queued', 'deferred') AND sending_since IS NULL`,
      [this.owner],
    );
  }

  async delivered(mailId: string, results: { recipient: string; reply: string; host: string }[]): Promise<void> {
    if (results.length === 0) return;
    await this.db.transaction(async (tx) => {
      // Delivered is the truth whoever owns the row now.
      await tx.query(
        `UPDATE deliveries d
            SET status = 'delivered', remote_reply = x.reply, remote_host = x.host, last_error = NULL, next_attempt_at = NULL,
                lease_owner = NULL, lease_expires = NULL, sending_since = NULL, updated_at = now()
           FROM unnest($2::text[], $3::text[], $4::text[]) AS x(r, reply, host)
          WHERE d.mail_id = $1 AND d.recipient = x.r AND d.status IN ('queued', 'deferred')`,
        [mailId, results.map((x) => x.recipient), results.map((x) => x.reply), results.map((x) => x.host)],
      );
      await releaseOutboundIfDone(tx, mailId);
    });
  }

  /** Temporary failures: deferred until `nextAttemptAt`, ownership given up until then. */
  async deferred(mailId: string, results: { recipient: string; error: string; host?: string; nextAttemptAt: Date; delayNotified?: string }[]): Promise<void> {
    if (results.length === 0) return;
    await this.db.query(
      `UPDATE deliveries d
          SET status = 'deferred', last_error = x.err, remote_host = COALESCE(x.host, d.remote_host), next_attempt_at = x.next,
              delay_notified_at = CASE WHEN x.dsn IS NOT NULL THEN now() ELSE d.delay_notified_at END,
              dsn_mail_id = COALESCE(x.dsn, d.dsn_mail_id),
              lease_owner = NULL, lease_expires = NULL, sending_since = NULL, updated_at = now()
         FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) AS x(r, err, host, next, dsn)
        WHERE d.mail_id = $1 AND d.recipient = x.r AND d.status IN ('queued', 'deferred') AND d.lease_owner = $7`,
      [
        mailId,
        results.map((x) => x.recipient),
        results.map((x) => x.error),
        results.map((x) => x.host ?? null),
        results.map((x) => x.nextAttemptAt.toISOString()),
        results.map((x) => x.delayNotified ?? null),
        this.owner,
      ],
    );
  }

  /** Permanent failures (or the lifetime ran out): bounced, with the DSN's mail id when one was sent. */
  async bounced(mailId: string, results: { recipient: string; error: string; host?: string }[], dsnMailId: string | null): Promise<void> {
    if (results.length === 0) return;
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE deliveries d
            SET status = 'bounced', last_error = x.err, remote_host = COALESCE(x.host, d.remote_host), next_attempt_at = NULL,
                dsn_mail_id = COALESCE($5, d.dsn_mail_id), lease_owner = NULL, lease_expires = NULL, sending_since = NULL, updated_at = now()
           FROM unnest($2::text[], $3::text[], $4::text[]) AS x(r, err, host)
          WHERE d.mail_id = $1 AND d.recipient = x.r AND d.status IN ('queued', 'deferred')`,
        [mailId, results.map((x) => x.recipient), results.map((x) => x.error), results.map((x) => x.host ?? null), dsnMailId],
      );
      await releaseOutboundIfDone(tx, mailId);
    });
  }

  /** Counts of the live queue for the metrics gauge. */
  async depth(): Promise<{ queued: number; deferred: number; inFlight: number }> {
    const r = await this.db.query<{ queued: string; deferred: string; in_flight: string }>(
      `SELECT count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'deferred') AS deferred,
              count(*) FILTER (WHERE sending_since IS NOT NULL) AS in_flight
         FROM deliveries WHERE domain IS NOT NULL AND status IN ('queued', 'deferred')`,
    );
    const row = r.rows[0]!;
    return { queued: Number(row.queued), deferred: Number(row.deferred), inFlight: Number(row.in_flight) };
  }
}

