import type { Queryable } from "@postline/db";
import { registerUnreferencedSql } from "@postline/mailstore";

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
 *
 * With `unreferenced`, the same statement also does what libs/mailstore registerUnreferencedBlob
 * does for that blob (a row with no references for the collector, unless it has a live row):
 * delivery's last step for the received message, taken with its last status when nothing else
 * comes between them (one round trip less per message).
 */
export async function recordDeliveries(
  db: Queryable,
  mailId: string,
  sender: string,
  records: DeliveryRecord[],
  unreferenced?: { key: string; size: number },
): Promise<void> {
  if (records.length === 0 && !unreferenced) return;
  const params: unknown[] = [mailId, sender, records.map((r) => r.recipient), records.map((r) => r.status), records.map((r) => r.lastError ?? null)];
  const record = `INSERT INTO deliveries (mail_id, recipient, sender, status, attempts, last_error)
     SELECT $1, r, $2, s, CASE WHEN s = 'delivered' THEN 1 ELSE 0 END, e
       FROM unnest($3::text[], $4::text[], $5::text[]) AS x(r, s, e)
     ON CONFLICT (mail_id, recipient) DO UPDATE
        SET status = EXCLUDED.status, last_error = EXCLUDED.last_error, attempts = deliveries.attempts + EXCLUDED.attempts, updated_at = now()
      WHERE deliveries.status <> EXCLUDED.status
        AND (EXCLUDED.status = 'delivered' OR deliveries.status IN ('quarantined', 'deferred'))`;
  if (!unreferenced) {
    await db.query(record, params);
    return;
  }
  // A data-modifying WITH runs to completion whether or not the main statement reads it; the two
  // touch different tables, so neither can see or disturb the other.
  await db.query(
    `WITH recorded AS (${record})
     ${registerUnreferencedSql(6)}`,
    [...params, unreferenced.key, unreferenced.size],
  );
}
