import { defaultSymbols, type Rule, type RuleContext, type RuleHit, type ScoredSymbol } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { ObservedVerdict, VerdictObserver } from "../policies.ts";
import { every } from "./housekeeping.ts";
import { WriteBehind, type WriteBehindMetrics } from "./write-behind.ts";
import { authenticatedDomains, dkimPassDomains, ipReputationKey, sendersOf } from "./senders.ts";

// Sender reputation learnt from past inbound verdicts (spam_reputation). Keys:
//   ip     the client's IPv4 /24 or IPv6 /64 (spammers hop between neighbouring addresses);
//   domain an authenticated sender domain: the MAIL FROM domain with SPF pass, the From domain with
//          DMARC pass (never a merely claimed domain);
//   dkim   each signing domain of a verifying DKIM signature.
// The observer counts a verdict as good or bad from its score without the REPUTATION_* symbols (so
// reputation never feeds itself); verdicts in between, and verdicts without any other symbol, are
// not counted. The rule scores a key only after minVerdicts counted verdicts: with r the share of bad
// verdicts, strength |2r − 1| scales the symbol table's REPUTATION_*_BAD (r > ½) or _GOOD (r < ½)
// score; below strength 0.2 nothing is scored.

export type ReputationKind = "ip" | "domain" | "dkim";

export interface ReputationKey {
  kind: ReputationKind;
  key: string;
}

export interface ReputationOptions {
  minVerdicts: number;
  /** A verdict scoring at most this (without reputation) is good... */
  goodScore: number;
  /** ...and at least this bad. */
  badScore: number;
  cacheSeconds: number;
  maxAgeDays: number;
  /** When good + bad reaches this, both are halved before counting (old behaviour fades). */
  decayAt?: number;
  /** How often stale keys are deleted (default 10 minutes). */
  pruneIntervalMs?: number;
  /**
   * Write-behind: counted verdicts are summed per key in the process and written together at most
   * this long after (one statement a flush, one row update a key); default 0: each verdict at once.
   */
  flushMs?: number;
  /** ...or as soon as this many keys are waiting (default 1000). */
  flushMaxEntries?: number;
  logger?: Logger;
  metrics?: WriteBehindMetrics;
}

const SYMBOL: Record<ReputationKind, string> = { ip: "IP", domain: "DOMAIN", dkim: "DKIM" };
const MIN_STRENGTH = 0.2;

/** The reputation keys of a message: its client network and its authenticated domains. */
export function reputationKeys(input: Pick<RuleContext, "client" | "mailFrom" | "content" | "auth">): ReputationKey[] {
  const keys: ReputationKey[] = [];
  const ip = ipReputationKey(input.client.ip);
  if (ip) keys.push({ kind: "ip", key: ip });
  if (input.auth) {
    const senders = sendersOf(input.mailFrom, input.content, input.auth);
    for (const domain of authenticatedDomains(senders, input.auth)) keys.push({ kind: "domain", key: domain });
    for (const domain of dkimPassDomains(input.auth)) keys.push({ kind: "dkim", key: domain });
  }
  return keys;
}

/** Good, bad or not counted, from the verdict's symbols without the reputation symbols. */
export function verdictClass(symbols: ScoredSymbol[], options: Pick<ReputationOptions, "goodScore" | "badScore">): "good" | "bad" | null {
  const others = symbols.filter((s) => !s.name.startsWith("REPUTATION_"));
  if (others.length === 0) return null;
  const score = others.reduce((sum, s) => sum + s.score, 0);
  if (score >= options.badScore) return "bad";
  if (score <= options.goodScore) return "good";
  return null;
}

/** The hit for one key's counts, or null (too few verdicts, or too even). */
export function reputationHit(kind: ReputationKind, key: string, good: number, bad: number, minVerdicts: number): RuleHit | null {
  const total = good + bad;
  if (total < minVerdicts || total === 0) return null;
  const ratio = bad / total;
  const strength = Math.abs(2 * ratio - 1);
  if (strength < MIN_STRENGTH - 1e-9) return null;
  const name = `REPUTATION_${SYMBOL[kind]}_${ratio > 0.5 ? "BAD" : "GOOD"}`;
  const bound = defaultSymbols[name]!.score;
  return { name, score: Math.round(bound * strength * 100) / 100, detail: `${key}: ${bad} bad / ${good} good` };
}

export class Reputation {
  private readonly cache = new Map<string, { good: number; bad: number; expires: number }>();
  private readonly prune: () => Promise<void>;
  private readonly buffer: WriteBehind<{ good: number; bad: number }>;

  constructor(
    private readonly db: Queryable,
    private readonly options: ReputationOptions,
  ) {
    this.prune = every(options.pruneIntervalMs ?? 10 * 60_000, async () => {
      await db.query(
        `DELETE FROM spam_reputation WHERE (kind, key) IN
           (SELECT kind, key FROM spam_reputation WHERE updated_at < now() - make_interval(days => $1) LIMIT 10000)`,
        [options.maxAgeDays],
      );
    });
    this.buffer = new WriteBehind({
      name: "reputation",
      intervalMs: options.flushMs ?? 0,
      maxEntries: options.flushMaxEntries,
      merge: (a, b) => ({ good: a.good + b.good, bad: a.bad + b.bad }),
      write: (batch) => this.write(batch),
      logger: options.logger,
      metrics: options.metrics,
    });
  }

  /** The counts of the keys, from the cache or else in one query (unknown keys count 0/0). */
  async lookup(keys: ReputationKey[]): Promise<Map<string, { good: number; bad: number }>> {
    const now = Date.now();
    const out = new Map<string, { good: number; bad: number }>();
    const missing: ReputationKey[] = [];
    for (const k of keys) {
      const cached = this.cache.get(`${k.kind}:${k.key}`);
      if (cached && cached.expires > now) out.set(`${k.kind}:${k.key}`, cached);
      else missing.push(k);
    }
    if (missing.length > 0) {
      const r = await this.db.query<{ kind: string; key: string; good: number; bad: number }>(
        `SELECT r.kind, r.key, r.good, r.bad FROM spam_reputation r
           JOIN unnest($1::text[], $2::text[]) AS k(kind, key) ON r.kind = k.kind AND r.key = k.key`,
        [missing.map((k) => k.kind), missing.map((k) => k.key)],
      );
      const found = new Map(r.rows.map((row) => [`${row.kind}:${row.key}`, { good: row.good, bad: row.bad }]));
      const expires = now + this.options.cacheSeconds * 1000;
      if (this.cache.size > 50_000) this.cache.clear();
      for (const k of missing) {
        const id = `${k.kind}:${k.key}`;
        const counts = found.get(id) ?? { good: 0, bad: 0 };
        out.set(id, counts);
        if (this.options.cacheSeconds > 0) this.cache.set(id, { ...counts, expires });
      }
    }
    return out;
  }

  rule(): Rule {
    return {
      name: "reputation",
      sources: ["inbound"],
      check: async (ctx) => {
        const keys = reputationKeys(ctx);
        if (keys.length === 0) return [];
        const counts = await this.lookup(keys);
        const hits: RuleHit[] = [];
        const seen = new Set<string>();
        for (const k of keys) {
          const c = counts.get(`${k.kind}:${k.key}`)!;
          const hit = reputationHit(k.kind, k.key, c.good, c.bad, this.options.minVerdicts);
          // one hit per symbol: a second authenticated domain does not add a second score
          if (hit && !seen.has(hit.name)) {
            seen.add(hit.name);
            hits.push(hit);
          }
        }
        return hits;
      },
    };
  }

  /**
   * Counts a verdict for its keys: written at once (one statement) or, with flushMs, at the next
   * flush; the cached counts of the keys are forgotten once written.
   */
  async record(keys: ReputationKey[], verdict: "good" | "bad"): Promise<void> {
    const good = verdict === "good" ? 1 : 0;
    if (this.options.flushMs) {
      for (const k of dedupe(keys)) await this.buffer.add(`${k.kind}:${k.key}`, { good, bad: 1 - good });
      return;
    }
    if (keys.length === 0) return;
    await this.write(dedupe(keys).map((k) => [`${k.kind}:${k.key}`, { good, bad: 1 - good }]));
  }

  /** Writes what is waiting (write-behind). */
  flush(): Promise<void> {
    return this.buffer.flush();
  }

  /** On stop: writes what is waiting. */
  close(): Promise<void> {
    return this.buffer.close();
  }

  /**
   * One statement for any number of keys (distinct; in key order, so replicas take the row locks in
   * the same order): each row gets good += g, bad += b, both halved first when they reached decayAt.
   */
  private async write(batch: Array<[string, { good: number; bad: number }]>): Promise<void> {
    if (batch.length === 0) return;
    batch.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const split = batch.map(([id]) => {
      const at = id.indexOf(":");
      return [id.slice(0, at), id.slice(at + 1)] as const;
    });
    await this.db.query(
      `INSERT INTO spam_reputation (kind, key, good, bad, updated_at)
       SELECT k.kind, k.key, k.good, k.bad, now() FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) AS k(kind, key, good, bad)
       ON CONFLICT (kind, key) DO UPDATE SET
         good = (CASE WHEN spam_reputation.good + spam_reputation.bad >= $5 THEN spam_reputation.good / 2 ELSE spam_reputation.good END) + EXCLUDED.good,
         bad = (CASE WHEN spam_reputation.good + spam_reputation.bad >= $5 THEN spam_reputation.bad / 2 ELSE spam_reputation.bad END) + EXCLUDED.bad,
         updated_at = now()`,
      [split.map(([kind]) => kind), split.map(([, key]) => key), batch.map(([, c]) => c.good), batch.map(([, c]) => c.bad), this.options.decayAt ?? 1000],
    );
    for (const [id] of batch) this.cache.delete(id);
  }

  observer(): VerdictObserver & { flush(): Promise<void> } {
    return {
      name: "reputation",
      flush: () => this.flush(),
      close: () => this.close(),
      observe: async ({ event, source, result }: ObservedVerdict) => {
        if (source !== "inbound") return;
        const verdict = verdictClass(result.symbols, this.options);
        if (verdict) {
          const keys = reputationKeys({ client: event.client, mailFrom: event.envelope.mailFrom, content: result.content, auth: result.auth });
          await this.record(dedupe(keys), verdict);
        }
        await this.prune();
      },
    };
  }
}

function dedupe(keys: ReputationKey[]): ReputationKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = `${k.kind}:${k.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
