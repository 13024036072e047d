import type { Db } from "@postline/db";

/** Advisory lock class for the per-account submission counter (pg_advisory_xact_lock(class, account)). */
const LOCK_CLASS = 5_587_001;

/**
 * The per-account hourly message limit, counted in PostgreSQL (table submission_log, migration
 * 0005) so every submission pod sees the same count. A message takes its slot in a transaction
 * serialised per account (advisory lock), so two pods cannot both take the last one; the slot is
 * given back when storing or publishing the message fails afterwards.
 */
export class HourlyLimit {
  constructor(
    private readonly db: Db,
    private readonly maxPerHour: number,
  ) {}

  /** Messages the account submitted in the last 60 minutes. */
  async used(accountId: number): Promise<number> {
    const r = await this.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM submission_log WHERE account_id = $1 AND submitted_at > now() - interval '1 hour'",
      [accountId],
    );
    return Number(r.rows[0]!.n);
  }

  async exceeded(accountId: number): Promise<boolean> {
    return (await this.used(accountId)) >= this.maxPerHour;
  }

  /** Takes a slot for `mailId`; false when the hour's allowance is used up. */
  async reserve(accountId: number, mailId: string): Promise<boolean> {
    const taken = await this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock($1::int, $2::int)", [LOCK_CLASS, accountId]);
      const r = await tx.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM submission_log WHERE account_id = $1 AND submitted_at > now() - interval '1 hour'",
        [accountId],
      );
      if (Number(r.rows[0]!.n) >= this.maxPerHour) return false;
      await tx.query("INSERT INTO submission_log (account_id, mail_id) VALUES ($1, $2)", [accountId, mailId]);
      return true;
    });
    // Housekeeping, now and then: rows that no longer count.
    if (taken && Math.random() < 0.01) await this.db.query("DELETE FROM submission_log WHERE submitted_at < now() - interval '2 hours'");
    return taken;
  }

  async release(mailId: string): Promise<void> {
    await this.db.query("DELETE FROM submission_log WHERE mail_id = $1", [mailId]);
  }
}
