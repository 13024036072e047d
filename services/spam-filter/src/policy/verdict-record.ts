import type { Queryable } from "@postline/db";
import type { ObservedVerdict, VerdictObserver } from "../policies.ts";
import { every } from "./housekeeping.ts";

// The explainable verdict of every classified message (spam_verdicts; read with getSpamVerdict of
// libs/directory, `GET /v1/spam/verdicts/{mailId}`, `postline spam verdict <mailId>`). A message
// classified again (a redelivered event) replaces its row. Rows older than the retention are
// deleted in batches, at most every pruneIntervalMs, by whichever replica records a verdict.

export interface VerdictRecordOptions {
  retentionDays: number;
  /** How often old verdicts are deleted (default 10 minutes). */
  pruneIntervalMs?: number;
  /** Rows deleted per pruning statement (default 10000); a backlog goes on at the next interval. */
  pruneBatch?: number;
}

export function verdictRecordObserver(db: Queryable, options: VerdictRecordOptions): VerdictObserver & { prune(): Promise<number> } {
  const pruneNow = async (): Promise<number> => {
    const r = await db.query(
      `DELETE FROM spam_verdicts WHERE mail_id IN
         (SELECT mail_id FROM spam_verdicts WHERE classified_at < now() - make_interval(days => $1) LIMIT $2)`,
      [options.retentionDays, options.pruneBatch ?? 10_000],
    );
    return r.rowCount;
  };
  const prune = every(options.pruneIntervalMs ?? 10 * 60_000, async () => {
    await pruneNow();
  });
  return {
    name: "verdict-record",
    prune: pruneNow,
    async observe({ event, source, result }: ObservedVerdict): Promise<void> {
      const accounts = result.accounts.map((a) => ({ accountId: a.accountId, action: a.action, score: a.score, symbols: a.symbols }));
      await db.query(
        `INSERT INTO spam_verdicts (mail_id, source, action, score, symbols, accounts, auth_results, mail_from, recipients, client_ip, classified_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, now())
         ON CONFLICT (mail_id) DO UPDATE SET source = EXCLUDED.source, action = EXCLUDED.action, score = EXCLUDED.score,
           symbols = EXCLUDED.symbols, accounts = EXCLUDED.accounts, auth_results = EXCLUDED.auth_results,
           mail_from = EXCLUDED.mail_from, recipients = EXCLUDED.recipients, client_ip = EXCLUDED.client_ip, classified_at = now()`,
        [
          event.id,
          source,
          result.action,
          result.score,
          JSON.stringify(result.symbols),
          JSON.stringify(accounts),
          result.authResults,
          event.envelope.mailFrom,
          event.envelope.rcptTo,
          event.client.ip,
        ],
      );
      await prune();
    },
  };
}
