import type { Queryable } from "@postline/db";

export type DeliveryStatus = "queued" | "deferred" | "delivered" | "bounced" | "quarantined" | "deleted";

export interface DeliveryRecord {
  recipient: string;
  status: DeliveryStatus;
  lastError?: string | null;
}

/** The recorded status of each recipient of a message (the `deliveries` table, one row per final recipient). */
export async function deliveryStatuses(db: Queryable, mailId: string): Promise<Map<string, DeliveryStatus>> {
  const r = await db.query<{ recipient: string; status: DeliveryStatus }>("SELECT recipient, status FROM deliveries WHERE mail_id = $1", [mailId]);
  return new Map(r.rows.map((row) => [row.recipient, row.status]));
}

/**
 * Records recipients' statuses. A new row takes the given status; an existing one changes only
 * towards progress: anything may become `delivered`, and a `quarantined` or `deferred` row (a
 * released message, a retried one) takes the new status. So a redelivered event cannot move a
 * delivered recipient back.
 */
export async function recordDeliveries(db: Queryable, mailId: string, sender: string, records: DeliveryRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.query(
    `INSERT INTO deliveries (mail_id, recipient, sender, status, attempts, last_error)
     SELECT $1, r, $2, s, CASE WHEN s = 'delivered' THEN 1 ELSE 0 END, e
       FROM unnest($3::text[], $4::text[], $5::text[]) AS x(r, s, e)
     ON CONFLICT (mail_id, recipient) DO UPDATE
        SET status = EXCLUDED.status, last_error = EXCLUDED.last_error, attempts = deliveries.attempts + EXCLUDED.attempts, updated_at = now()
      WHERE deliveries.status <> EXCLUDED.status
        AND (EXCLUDED.status = 'delivered' OR deliveries.status IN ('quarantined', 'deferred'))`,
    [mailId, sender, records.map((r) => r.recipient), records.map((r) => r.status), records.map((r) => r.lastError ?? null)],
  );
}
