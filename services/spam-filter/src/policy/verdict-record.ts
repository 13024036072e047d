import type { Queryable } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { ObservedVerdict, VerdictObserver } from "../policies.ts";
import { every } from "./housekeeping.ts";
import { WriteBehind, type WriteBehindMetrics } from "./write-behind.ts";

// The explainable verdict of every classified message (spam_verdicts; read with getSpamVerdict of
// libs/directory, `GET /v1/spam/verdicts/{mailId}`, `postline spam verdict <mailId>`). A message
// classified again (a redelivered event) replaces its row. Rows older than the retention are
// deleted in batches, at most every pruneIntervalMs, by whichever replica records a verdict.
// Records are written behind (write-behind.ts): every flushMs, one multi-row upsert, one row per mail
// id (the last verdict of a mail wins).

export interface VerdictRecordOptions {
  retentionDays: number;
  /** How often old verdicts are deleted (default 10 minutes). */
  pruneIntervalMs?: number;
  /** Rows deleted per pruning statement (default 10000); a backlog goes on at the next interval. */
  pruneBatch?: number;
  /** Write-behind: records are written together at most this long after (default 0: each at once). */
  flushMs?: number;
  /** ...or as soon as this many are waiting (default 1000). */
  flushMaxEntries?: number;
  logger?: Logger;
  metrics?: WriteBehindMetrics;
}

type VerdictRow = [source: string, action: string, score: number, symbols: string, accounts: string, authResults: string, mailFrom: string, recipients: string, clientIp: string];

/** One statement for any number of verdicts (distinct mail ids), in mail id order (no lock-order deadlocks between replicas). */
async function writeVerdicts(db: Queryable, batch: Array<[string, VerdictRow]>): Promise<void> {
  batch.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const column = (i: number) => batch.map(([, row]) => row[i]);
  await db.query(
    `INSERT INTO spam_verdicts (mail_id, source, action, score, symbols, accounts, auth_results, mail_from, recipients, client_ip, classified_at)
     SELECT v.mail_id, v.source, v.action, v.score, v.symbols::jsonb, v.accounts::jsonb, v.auth_results, v.mail_from,
            ARRAY(SELECT jsonb_array_elements_text(v.recipients::jsonb)), v.client_ip, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
         AS v(mail_id, source, action, score, symbols, accounts, auth_results, mail_from, recipients, client_ip)
     ON CONFLICT (mail_id) DO UPDATE SET source = EXCLUDED.source, action = EXCLUDED.action, score = EXCLUDED.score,
       symbols = EXCLUDED.symbols, accounts = EXCLUDED.accounts, auth_results = EXCLUDED.auth_results,
       mail_from = EXCLUDED.mail_from, recipients = EXCLUDED.recipients, client_ip = EXCLUDED.client_ip, classified_at = now()`,
    [batch.map(([id]) => id), column(0), column(1), column(2), column(3), column(4), column(5), column(6), column(7), column(8)],
  );
}

export function verdictRecordObserver(db: Queryable, options: VerdictRecordOptions): VerdictObserver & { prune(): Promise<number>; flush(): Promise<void>; close(): Promise<void> } {
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
  const buffer = new WriteBehind<VerdictRow>({
    name: "verdict-record",
    intervalMs: options.flushMs ?? 0,
    maxEntries: options.flushMaxEntries,
    merge: (_older, newer) => newer,
    write: (batch) => writeVerdicts(db, batch),
    logger: options.logger,
    metrics: options.metrics,
  });
  return {
    name: "verdict-record",
    prune: pruneNow,
    flush: () => buffer.flush(),
    close: () => buffer.close(),
    async observe({ event, source, result }: ObservedVerdict): Promise<void> {
      const accounts = result.accounts.map((a) => ({ accountId: a.accountId, action: a.action, score: a.score, symbols: a.symbols }));
      await buffer.add(event.id, [
        source,
        result.action,
        result.score,
        JSON.stringify(result.symbols),
        JSON.stringify(accounts),
        result.authResults,
        event.envelope.mailFrom,
        JSON.stringify(event.envelope.rcptTo),
        event.client.ip,
      ]);
      await prune();
    },
  };
}
