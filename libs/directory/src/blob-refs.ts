import type { Queryable } from "@postline/db";

/**
 * Before accounts are deleted (their messages go with them by ON DELETE CASCADE), gives back the
 * blob references those messages hold, so the collector can remove blobs nobody refers to any more.
 * `accountFilter` is a condition on `accounts a` using `params`.
 */
export async function releaseMessageBlobs(tx: Queryable, accountFilter: string, params: readonly unknown[]): Promise<void> {
  await tx.query(
    `WITH gone AS (
       SELECT m.blob_hash, count(*)::int AS n
         FROM messages m
         JOIN mailboxes b ON b.id = m.mailbox_id
         JOIN accounts a ON a.id = b.account_id
        WHERE ${accountFilter}
        GROUP BY m.blob_hash
     )
     UPDATE blobs
        SET refcount = GREATEST(blobs.refcount - gone.n, 0),
            unreferenced_at = CASE WHEN blobs.refcount - gone.n <= 0 THEN now() ELSE blobs.unreferenced_at END
       FROM gone
      WHERE blobs.hash = gone.blob_hash`,
    params,
  );
}
