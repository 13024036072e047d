import type { Queryable } from "@postline/db";

/**
 * Takes `count` references on a blob, creating its row when it has none; a blob waiting for
 * collection is referenced again, and so is a collected one (its tombstone, see `blobGc`):
 * `collected` tells the caller its content was deleted and must be stored again.
 */
export async function addBlobRef(tx: Queryable, blob: { key: string; size: number }, count = 1): Promise<{ collected: boolean }> {
  const r = await tx.query<{ collected: boolean }>(
    `WITH before AS (SELECT collected_at FROM blobs WHERE hash = $1 FOR UPDATE),
          upserted AS (
            INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, $3)
            ON CONFLICT (hash) DO UPDATE
               SET refcount = CASE WHEN blobs.collected_at IS NULL THEN blobs.refcount ELSE 0 END + EXCLUDED.refcount,
                   unreferenced_at = NULL, collected_at = NULL
            RETURNING 1)
     SELECT COALESCE((SELECT collected_at IS NOT NULL FROM before), false) AS collected FROM upserted`,
    [blob.key, blob.size, count],
  );
  return { collected: r.rows[0]!.collected };
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
 * unless it has a live row already; a tombstone (content collected before, put again since) becomes
 * a row to collect again. For content put without a reference, e.g. the message as received, once
 * delivery no longer needs it.
 */
export async function registerUnreferencedBlob(tx: Queryable, blob: { key: string; size: number }): Promise<void> {
  await tx.query(registerUnreferencedSql(1), [blob.key, blob.size]);
}

/** registerUnreferencedBlob's statement with the hash and size as $n and $n+1 (to be part of a caller's statement). */
export function registerUnreferencedSql(n: number): string {
  return `INSERT INTO blobs (hash, size, refcount, unreferenced_at) VALUES ($${n}, $${n + 1}, 0, now())
          ON CONFLICT (hash) DO UPDATE SET unreferenced_at = now(), collected_at = NULL WHERE blobs.collected_at IS NOT NULL`;
}
