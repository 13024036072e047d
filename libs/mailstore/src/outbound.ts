import type { Queryable } from "@postline/db";
import { releaseBlobRef } from "./blob-refs.ts";

/** Recipient statuses after which nothing more is sent. */
export const FINAL_DELIVERY_STATUSES = ["delivered", "bounced", "deleted"] as const;

/**
 * Releases the outbound message's reference on its blob once none of its remote recipients is
 * waiting any more (all delivered, bounced or deleted). Idempotent; call it in the transaction that
 * made the last recipient final, or after.
 */
export async function releaseOutboundIfDone(tx: Queryable, mailId: string): Promise<boolean> {
  const r = await tx.query<{ blob_key: string }>(
    `UPDATE outbound_messages o SET holds_blob = false
      WHERE o.mail_id = $1 AND o.holds_blob
        AND NOT EXISTS (SELECT 1 FROM deliveries d
                         WHERE d.mail_id = o.mail_id AND d.domain IS NOT NULL AND d.status IN ('queued', 'deferred'))
      RETURNING o.blob_key`,
    [mailId],
  );
  const row = r.rows[0];
  if (!row) return false;
  await releaseBlobRef(tx, row.blob_key);
  return true;
}
