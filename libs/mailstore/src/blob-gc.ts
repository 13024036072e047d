import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";

export interface BlobGcResult {
  /** Keys deleted from the store (their rows are tombstones now). */
  deleted: string[];
}

export interface BlobGcOptions {
  /** Blobs collected per run (default 1000); the rest wait for the next run. */
  limit?: number;
  /** How long a collected blob's tombstone row stays (default one day). */
  tombstoneMs?: number;
}

/**
 * Collects blobs that have had no reference for longer than `graceMs`, each in two steps:
 *   1. its row becomes a tombstone (`collected_at`, committed): from then on an append that
 *      references the blob finds the tombstone (the append reports `blobCollected`, addBlobRef
 *      `collected`) and checks that the content is stored, putting it again if not;
 *   2. the content is deleted from the store, under the row's lock and only if the row is still a
 *      tombstone: a blob referenced again between the steps is left alone.
 * A blob with no row at all was never collected, so the common append of new content needs no
 * check. Tombstones are deleted `tombstoneMs` later; they outlive by far the race they guard (an
 * append's put and its reference are one handler's work, seconds apart). A crash between the two
 * steps leaves the content in the store without a row (a leak, never a loss). Several collectors
 * can run at once: each skips rows another one holds.
 */
export async function blobGc(db: Db, blobs: BlobStore, graceMs: number, options: BlobGcOptions = {}): Promise<BlobGcResult> {
  // Cut-offs in the database's clock, the one that stamped the rows: a client's clock may be skewed,
  // and its millisecond Date is coarser than now()'s microseconds.
  // A message row still naming the blob would mean a miscounted reference: never collect then.
  const stamped = await db.query<{ hash: string }>(
    `UPDATE blobs SET collected_at = now()
      WHERE hash IN (SELECT hash FROM blobs b
                      WHERE b.refcount = 0 AND b.unreferenced_at < now() - $1 * interval '1 millisecond' AND b.collected_at IS NULL
                        AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_hash = b.hash)
                      ORDER BY b.unreferenced_at LIMIT $2 FOR UPDATE SKIP LOCKED)
      RETURNING hash`,
    [graceMs, options.limit ?? 1000],
  );
  const deleted: string[] = [];
  for (const { hash } of stamped.rows) {
    const gone = await db.transaction(async (tx) => {
      const r = await tx.query("SELECT hash FROM blobs WHERE hash = $1 AND collected_at IS NOT NULL FOR UPDATE", [hash]);
      if (r.rows.length === 0) return false;
      await blobs.delete(hash);
      return true;
    });
    if (gone) deleted.push(hash);
  }
  await db.query(
    `DELETE FROM blobs WHERE hash IN (SELECT hash FROM blobs WHERE collected_at < now() - $1 * interval '1 millisecond' LIMIT $2)
       AND collected_at < now() - $1 * interval '1 millisecond'`,
    [options.tombstoneMs ?? 24 * 3600_000, options.limit ?? 1000],
  );
  return { deleted };
}
