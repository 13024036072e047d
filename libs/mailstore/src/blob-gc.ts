import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";

export interface BlobGcResult {
  /** Keys deleted from the store and the table. */
  deleted: string[];
}

/**
 * Collects blobs that have had no reference for longer than `graceMs`: each is deleted from the
 * store, then its row, inside a transaction that holds the row's lock. An append that references
 * the blob meanwhile waits for that lock and then finds no row (addBlobRef reports `created`), so
 * it knows to check the content is still stored. A crash between the two deletes leaves the row,
 * and the next run deletes again (deleting a missing blob succeeds). Several collectors can run
 * at once: each skips rows another one holds.
 */
export async function blobGc(db: Db, blobs: BlobStore, graceMs: number, options: { limit?: number } = {}): Promise<BlobGcResult> {
  const cutoff = new Date(Date.now() - graceMs);
  const candidates = await db.query<{ hash: string }>(
    "SELECT hash FROM blobs WHERE refcount = 0 AND unreferenced_at < $1 ORDER BY unreferenced_at LIMIT $2",
    [cutoff, options.limit ?? 1000],
  );
  const deleted: string[] = [];
  for (const { hash } of candidates.rows) {
    const gone = await db.transaction(async (tx) => {
      // A message row still naming the blob would mean a miscounted reference: never delete then.
      const r = await tx.query(
        `SELECT hash FROM blobs WHERE hash = $1 AND refcount = 0 AND unreferenced_at < $2
            AND NOT EXISTS (SELECT 1 FROM messages WHERE blob_hash = $1)
            FOR UPDATE SKIP LOCKED`,
        [hash, cutoff],
      );
      if (r.rows.length === 0) return false;
      await blobs.delete(hash);
      await tx.query("DELETE FROM blobs WHERE hash = $1", [hash]);
      return true;
    });
    if (gone) deleted.push(hash);
  }
  return { deleted };
}
