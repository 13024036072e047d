import type { RuleHit, SymbolDefinition } from "@postline/antispam";
import type { Db } from "@postline/db";

export interface OutboundRateLimits {
  /** Messages per account in the minute up to the message; above → OUTBOUND_BURST. 0 = no check. */
  perMinute: number;
  /** Messages per account in the hour up to the message; above → OUTBOUND_RATE_HIGH. 0 = no check. */
  perHour: number;
  /** Distinct recipients per account in the hour up to the message; above → OUTBOUND_RCPTS_HIGH. 0 = no check. */
  recipientsPerHour: number;
}

/** What one account sent in the windows ending at a message (that message included). */
export interface OutboundCounts {
  lastMinute: number;
  lastHour: number;
  recipientsLastHour: number;
}

export interface OutboundMessage {
  /** The mail id: a redelivered event with the same id is counted once. */
  id: string;
  /** The authenticated account (client.authUser). */
  account: string;
  recipients: string[];
  /** When submission accepted it (the event's receivedAt); a time in the future counts as now. */
  at: Date;
}

/** Rows older than this are deleted now and then (the longest window is an hour). */
const KEEP = "2 hours";
/** About one recorded message in this many also deletes the rows that no longer count. */
const PRUNE_EVERY = 100;

/** The rate symbols; one score for all three, by default the quarantine score (so any one quarantines). */
export function outboundSymbols(score: number): Record<string, SymbolDefinition> {
  return {
    OUTBOUND_BURST: { score, description: "The authenticated account submitted more messages in a minute than POSTLINE_SPAM_OUTBOUND_PER_MINUTE" },
    OUTBOUND_RATE_HIGH: { score, description: "The authenticated account submitted more messages in an hour than POSTLINE_SPAM_OUTBOUND_PER_HOUR" },
    OUTBOUND_RCPTS_HIGH: {
      score,
      description: "The authenticated account sent to more distinct recipients in an hour than POSTLINE_SPAM_OUTBOUND_RCPTS_PER_HOUR",
    },
  };
}

/**
 * The outbound rate check of submitted mail: each message is recorded once (table outbound_rate_log,
 * keyed by mail id) in the database every spam-filter replica shares, then the account's messages
 * and distinct recipients are counted in the sliding minute and hour that end at the message's
 * submission time. Counting at the message's own time keeps a backlog (spam filter down for a while)
 * from looking like a burst, and makes a redelivered event see the same windows.
 */
export class OutboundRate {
  constructor(
    private readonly db: Db,
    private readonly limits: OutboundRateLimits,
    /** About one record in this many prunes (0: never; the caller prunes). */
    private readonly pruneEvery = PRUNE_EVERY,
  ) {}

  get enabled(): boolean {
    return this.limits.perMinute > 0 || this.limits.perHour > 0 || this.limits.recipientsPerHour > 0;
  }

  /** Records the message (once per id) and returns the account's counts up to it. */
  async record(message: OutboundMessage): Promise<OutboundCounts> {
    const account = message.account.toLowerCase();
    const recipients = [...new Set(message.recipients.map((r) => r.toLowerCase()))];
    // The stored time of a redelivered message is its first one; the windows end there.
    const inserted = await this.db.query<{ at: Date | string }>(
      `INSERT INTO outbound_rate_log (mail_id, account, recipients, submitted_at)
       VALUES ($1, $2, $3, LEAST($4::timestamptz, now()))
       ON CONFLICT (mail_id) DO UPDATE SET mail_id = EXCLUDED.mail_id
       RETURNING submitted_at AS at`,
      [message.id, account, recipients, message.at.toISOString()],
    );
    const at = new Date(inserted.rows[0]!.at);
    const r = await this.db.query<{ minute: number; hour: number; rcpts: number }>(
      `SELECT count(*) FILTER (WHERE submitted_at > $2::timestamptz - interval '1 minute')::int AS minute,
              count(*)::int AS hour,
              (SELECT count(DISTINCT r)::int FROM outbound_rate_log l, unnest(l.recipients) AS r
                WHERE l.account = $1 AND l.submitted_at > $2::timestamptz - interval '1 hour' AND l.submitted_at <= $2::timestamptz) AS rcpts
         FROM outbound_rate_log
        WHERE account = $1 AND submitted_at > $2::timestamptz - interval '1 hour' AND submitted_at <= $2::timestamptz`,
      [account, at.toISOString()],
    );
    if (this.pruneEvery > 0 && Math.random() * this.pruneEvery < 1) await this.prune();
    const row = r.rows[0]!;
    return { lastMinute: Number(row.minute), lastHour: Number(row.hour), recipientsLastHour: Number(row.rcpts) };
  }

  /** Deletes the rows no window reaches any more; returns how many. */
  async prune(): Promise<number> {
    const r = await this.db.query(`DELETE FROM outbound_rate_log WHERE submitted_at < now() - interval '${KEEP}'`);
    return r.rowCount;
  }

  /** The symbols the counts earn under the limits. */
  hits(counts: OutboundCounts): RuleHit[] {
    const { perMinute, perHour, recipientsPerHour } = this.limits;
    const hits: RuleHit[] = [];
    if (perMinute > 0 && counts.lastMinute > perMinute) {
      hits.push({ name: "OUTBOUND_BURST", detail: `${counts.lastMinute} messages in a minute (limit ${perMinute})` });
    }
    if (perHour > 0 && counts.lastHour > perHour) {
      hits.push({ name: "OUTBOUND_RATE_HIGH", detail: `${counts.lastHour} messages in an hour (limit ${perHour})` });
    }
    if (recipientsPerHour > 0 && counts.recipientsLastHour > recipientsPerHour) {
      hits.push({ name: "OUTBOUND_RCPTS_HIGH", detail: `${counts.recipientsLastHour} recipients in an hour (limit ${recipientsPerHour})` });
    }
    return hits;
  }

  /** Records the message and returns its symbols. */
  async check(message: OutboundMessage): Promise<RuleHit[]> {
    return this.hits(await this.record(message));
  }
}
