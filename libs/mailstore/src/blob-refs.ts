import type { Queryable } from "@postline/db";

/**
 * Takes one reference on a blob, creating its row when it has none; a blob waiting for collection
 * is referenced again. `created` tells whether the row is new: the content may then have been
 * collected between the caller's put and this call (see `blobGc`), so the caller checks it is stored.
 */
export async function addBlobRef(tx: Queryable, blob: { key: string; size: number }, count = 1): Promise<{ created: boolean }> {
  const r = await tx.query<{ created: boolean }>(
    `INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, $3)
     ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + EXCLUDED.refcount, unreferenced_at = NULL
     RETURNING (xmax = 0) AS created`,
    [blob.key, blob.size, count],
  );
  return { created: r.rows[0]!.created };
}

/** Gives back `count` references; a blob left with none is stamped for the collector. */
export async function releaseBlobRef(tx: Queryable, key: string, count = 1): Promise<void> {
  await tx.query(
    `UPDATE blobs SET refcount = GREATEST(refcount - $2, 0),
                      unreferenced_at = CASE WHEN refcount - $2 <= 0 THEN now() ELSE unreferenced_at END
      WHERE hash = $1`,
    [key, count],
  );
}

/**
 * Makes a blob that nothing references yet known to the collector (a row with no references),
 * unless it has a row already. For content put without a reference, e.g. the message as received,
 * once delivery no longer needs it.
 */
export async function registerUnreferencedBlob(tx: Queryable, blob: { key: string; size: number }): Promise<void> {
  await tx.query("INSERT INTO blobs (hash, size, refcount, unreferenced_at) VALUES ($1, $2, 0, now()) ON CONFLICT (hash) DO NOTHING", [
    blob.key,
    blob.size,
  ]);
}
