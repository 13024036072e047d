import type { Db, Queryable } from "@postline/db";
import type { ContentView } from "../message.ts";
import type { ExpiryOptions } from "./expiry.ts";
import { averageDecay, defaultLogisticOptions, logisticStep, type LogisticOptions, type LogisticState, type TokenWeight } from "./logistic.ts";
import { tokenHash, type TokenCounts } from "./math.ts";
import { TokenCache } from "./token-cache.ts";
import { bayesTokens } from "./tokenize.ts";

export type SpamClass = "spam" | "ham";

export interface BayesStoreOptions {
  /** Token counts kept in memory (about the most recently used, over every model: TokenCache), default 200 000. */
  cacheEntries?: number;
  /** The global model's counts and tokens may be this stale (POSTLINE_SPAM_BAYES_CACHE_SECONDS), default 30 s. */
  globalCacheSeconds?: number;
  /** The global model's logistic regression (logistic.ts), stepped by every learn into it. */
  logistic?: LogisticOptions;
}

/** A token's counts, and its (averaged) logistic weight in the global model (0 elsewhere). */
export interface TokenStats extends TokenCounts {
  weight: number;
}

export type LearnOutcome = "learned" | "relearned" | "already";

/** One message to learn: its key (never learned twice in one class), class and token hashes (hashesOf). */
export interface LearnItem {
  messageKey: string;
  cls: SpamClass;
  /** Unique token hashes, as hashesOf gives them. */
  hashes: string[];
}

/** A model as one classification sees it. `version` keys its cached token counts. */
export interface ModelSnapshot {
  id: number;
  nspam: number;
  nham: number;
  version: number;
  /** The logistic regression's averaged bias (the global model's; 0 for an account's). */
  bias: number;
}

interface GlobalCache {
  snapshot: ModelSnapshot;
  expires: number;
}

const ZERO: TokenStats = { nspam: 0, nham: 0, weight: 0 };

export interface ExpiryResult {
  /** Models that lost something. */
  models: number;
  tokens: number;
  records: number;
}

/**
 * The Bayes models in the database (migration 0008): the global one (accountId null) and one per
 * account. Learning is one transaction per message that locks the model row (learns into one model
 * are serialized, so counts and "never twice in one class" hold under concurrent learners in any
 * process). Token counts read for classification are cached per (model, version): a learn bumps the
 * version, so an account model, whose version is read on every classification, is never stale; the
 * global model's version is re-read at most every globalCacheSeconds.
 */
export class BayesStore {
  private readonly cache: TokenCache<TokenStats>;
  private readonly logistic: LogisticOptions;
  private readonly globalTtlMs: number;
  private global: GlobalCache | null = null;
  private globalLoading: Promise<ModelSnapshot> | null = null;
  private readonly hashes = new WeakMap<ContentView, string[]>();

  constructor(
    private readonly db: Db,
    options: BayesStoreOptions = {},
  ) {
    this.cache = new TokenCache(options.cacheEntries ?? 200_000);
    this.globalTtlMs = (options.globalCacheSeconds ?? 30) * 1000;
    this.logistic = options.logistic ?? defaultLogisticOptions;
  }

  async learn(accountId: number | null, messageKey: string, cls: SpamClass, tokens: string[]): Promise<LearnOutcome> {
    const [outcome] = await this.learnMany(accountId, [{ messageKey, cls, hashes: uniqueHashes(tokens) }]);
    if (accountId === null && outcome !== "already") this.global = null; // our own learns are seen at once here
    return outcome!;
  }

  /**
   * Learns several messages into one model in one transaction (autolearn's batches): the counts
   * of every token the batch adds are summed and written in one statement. Outcomes in item order;
   * a key given twice is learned once, as its last class. Learns into the global model show here
   * when the global snapshot is next re-read (globalCacheSeconds), as other processes' learns do:
   * autolearn's steady stream then leaves the cached token counts in use.
   * Into the global model, each learned message is also one step of the logistic regression, in
   * item order, from the weights as stored (a correction is a step towards its new class; the
   * regression cannot take back the old step exactly, the counts can).
   */
  async learnMany(accountId: number | null, items: LearnItem[]): Promise<LearnOutcome[]> {
    if (items.length === 0) return [];
    const last = new Map(items.map((item, i) => [item.messageKey, i]));
    const outcomes = await this.db.transaction(async (tx) => {
      const model = await lockModel(tx, accountId, true);
      const previous = await tx.query<{ message_key: string; class: SpamClass; tokens: string[] }>(
        "SELECT message_key, class, tokens::text[] AS tokens FROM bayes_learned WHERE model_id = $1 AND message_key = ANY($2::text[])",
        [model, [...last.keys()]],
      );
      const earlier = new Map(previous.rows.map((r) => [r.message_key, r]));
      const counts = new Map<string, [number, number]>();
      const learned: Array<{ key: string; cls: SpamClass; hashes: string[] }> = [];
      const out: LearnOutcome[] = [];
      for (const [i, item] of items.entries()) {
        const before = earlier.get(item.messageKey);
        if (last.get(item.messageKey) !== i || before?.class === item.cls) {
          out.push("already");
          continue;
        }
        if (before) await unlearn(tx, model, item.messageKey, before.class, before.tokens);
        const hashes = item.hashes;
        for (const h of hashes) {
          const c = counts.get(h) ?? [0, 0];
          c[item.cls === "spam" ? 0 : 1]++;
          counts.set(h, c);
        }
        learned.push({ key: item.messageKey, cls: item.cls, hashes });
        out.push(before ? "relearned" : "learned");
      }
      if (learned.length === 0) return out;
      const tokens = [...counts.keys()].sort();
      if (accountId === null) {
        const { weights, state } = await this.stepLogistic(tx, model, tokens, learned);
        const w = tokens.map((t) => weights.get(t)!);
        await tx.query(
          `INSERT INTO bayes_tokens (model_id, token, nspam, nham, lr_weight, lr_g2, lr_avg, lr_last)
           SELECT $1, t, s, h, w, g, a, l FROM unnest($2::bigint[], $3::int[], $4::int[], $5::float8[], $6::float8[], $7::float8[], $8::bigint[]) AS x(t, s, h, w, g, a, l)
           ON CONFLICT (model_id, token) DO UPDATE SET nspam = bayes_tokens.nspam + EXCLUDED.nspam, nham = bayes_tokens.nham + EXCLUDED.nham,
             lr_weight = EXCLUDED.lr_weight, lr_g2 = EXCLUDED.lr_g2, lr_avg = EXCLUDED.lr_avg, lr_last = EXCLUDED.lr_last, learned_at = now()`,
          [
            model,
            tokens,
            tokens.map((t) => counts.get(t)![0]),
            tokens.map((t) => counts.get(t)![1]),
            w.map((x) => x.w),
            w.map((x) => x.g2),
            w.map((x) => x.avg),
            w.map((x) => x.last),
          ],
        );
        await tx.query("UPDATE bayes_models SET lr_bias = $2, lr_bias_avg = $3, lr_steps = $4 WHERE id = $1", [model, state.bias, state.biasAvg, state.steps]);
      } else {
        await tx.query(
          `INSERT INTO bayes_tokens (model_id, token, nspam, nham)
           SELECT $1, t, s, h FROM unnest($2::bigint[], $3::int[], $4::int[]) AS x(t, s, h)
           ON CONFLICT (model_id, token) DO UPDATE SET nspam = bayes_tokens.nspam + EXCLUDED.nspam, nham = bayes_tokens.nham + EXCLUDED.nham, learned_at = now()`,
          [model, tokens, tokens.map((t) => counts.get(t)![0]), tokens.map((t) => counts.get(t)![1])],
        );
      }
      await tx.query(
        `INSERT INTO bayes_learned (model_id, message_key, class, tokens)
         SELECT $1, k, c, t::bigint[] FROM unnest($2::text[], $3::text[], $4::text[]) AS x(k, c, t)`,
        [model, learned.map((l) => l.key), learned.map((l) => l.cls), learned.map((l) => `{${l.hashes.join(",")}}`)],
      );
      const spam = learned.filter((l) => l.cls === "spam").length;
      await tx.query("UPDATE bayes_models SET nspam = nspam + $2, nham = nham + $3, version = version + 1 WHERE id = $1", [model, spam, learned.length - spam]);
      return out;
    });
    return outcomes;
  }

  /** The logistic steps of the learned messages, in order, from the stored weights of their tokens (the model row is locked). */
  private async stepLogistic(
    tx: Queryable,
    model: number,
    tokens: string[],
    learned: Array<{ cls: SpamClass; hashes: string[] }>,
  ): Promise<{ weights: Map<string, TokenWeight>; state: LogisticState }> {
    const stored = await tx.query<TokenWeight & { token: string }>(
      `SELECT token::text AS token, lr_weight AS w, lr_g2 AS g2, lr_avg AS avg, lr_last::float8 AS last
       FROM bayes_tokens WHERE model_id = $1 AND token = ANY($2::bigint[])`,
      [model, tokens],
    );
    const weights = new Map<string, TokenWeight>(stored.rows.map(({ token, ...tw }) => [token, tw]));
    const row = await tx.query<LogisticState>("SELECT lr_bias AS bias, lr_bias_avg AS \"biasAvg\", lr_steps::float8 AS steps FROM bayes_models WHERE id = $1", [model]);
    const state = row.rows[0]!;
    for (const l of learned) logisticStep(state, weights, l.hashes, l.cls === "spam", this.logistic);
    return { weights, state };
  }

  async forget(accountId: number | null, messageKey: string): Promise<SpamClass | null> {
    const result = await this.db.transaction(async (tx) => {
      const model = await lockModel(tx, accountId, false);
      if (model === null) return null;
      const previous = await tx.query<{ class: SpamClass; tokens: string[] }>(
        "SELECT class, tokens::text[] AS tokens FROM bayes_learned WHERE model_id = $1 AND message_key = $2",
        [model, messageKey],
      );
      const earlier = previous.rows[0];
      if (!earlier) return null;
      await unlearn(tx, model, messageKey, earlier.class, earlier.tokens);
      return earlier.class;
    });
    if (result && accountId === null) this.global = null;
    return result;
  }

  /**
   * Drops what a model no longer needs (docs/spam-filter.md "Expiry"): tokens in at most
   * `maxCount` learned messages and not learned for `tokenDays`, and the records of messages
   * learned more than `recordDays` ago (a correction of such a message then learns it as new
   * instead of moving it between classes). One transaction per model, its row locked as a learn
   * locks it; a model that lost tokens gets a new version, so cached counts are not used again.
   */
  async expire(o: ExpiryOptions): Promise<ExpiryResult> {
    const tokenDays = o.tokenDays > 0 ? o.tokenDays : null;
    const recordDays = o.recordDays > 0 ? o.recordDays : null;
    const result: ExpiryResult = { models: 0, tokens: 0, records: 0 };
    if (tokenDays === null && recordDays === null) return result;
    const candidates = await this.db.query<{ id: number; global: boolean }>(
      `SELECT m.id, m.account_id IS NULL AS global FROM bayes_models m
       WHERE EXISTS (SELECT 1 FROM bayes_tokens t WHERE t.model_id = m.id AND t.learned_at < now() - $1::float8 * interval '1 day' AND t.nspam + t.nham <= $2)
          OR EXISTS (SELECT 1 FROM bayes_learned l WHERE l.model_id = m.id AND l.learned_at < now() - $3::float8 * interval '1 day')`,
      [tokenDays, o.maxCount, recordDays],
    );
    for (const model of candidates.rows) {
      const [tokens, records] = await this.db.transaction(async (tx) => {
        const locked = await tx.query("SELECT id FROM bayes_models WHERE id = $1 FOR UPDATE", [model.id]);
        if (locked.rowCount === 0) return [0, 0]; // its account was deleted meanwhile
        const t = await tx.query(
          "DELETE FROM bayes_tokens WHERE model_id = $1 AND learned_at < now() - $2::float8 * interval '1 day' AND nspam + nham <= $3",
          [model.id, tokenDays, o.maxCount],
        );
        const r = await tx.query("DELETE FROM bayes_learned WHERE model_id = $1 AND learned_at < now() - $2::float8 * interval '1 day'", [model.id, recordDays]);
        if (t.rowCount > 0) await tx.query("UPDATE bayes_models SET version = version + 1 WHERE id = $1", [model.id]);
        return [t.rowCount, r.rowCount];
      });
      if (tokens + records > 0) result.models++;
      result.tokens += tokens;
      result.records += records;
      if (model.global && tokens > 0) this.global = null;
    }
    return result;
  }

  async stats(accountId: number | null): Promise<{ spam: number; ham: number; tokens: number }> {
    const r = await this.db.query<{ nspam: number; nham: number; tokens: number }>(
      `SELECT m.nspam, m.nham, (SELECT count(*)::int FROM bayes_tokens t WHERE t.model_id = m.id) AS tokens
       FROM bayes_models m WHERE m.account_id IS NOT DISTINCT FROM $1`,
      [accountId],
    );
    const row = r.rows[0];
    return { spam: row?.nspam ?? 0, ham: row?.nham ?? 0, tokens: row?.tokens ?? 0 };
  }

  /** The token hashes of a message (memoized per content view). */
  hashesOf(content: ContentView): string[] {
    let hashes = this.hashes.get(content);
    if (!hashes) {
      hashes = uniqueHashes(bayesTokens(content));
      this.hashes.set(content, hashes);
    }
    return hashes;
  }

  /** The global model, re-read at most every globalCacheSeconds. */
  async globalModel(): Promise<ModelSnapshot> {
    if (this.global && this.global.expires > Date.now()) return this.global.snapshot;
    this.globalLoading ??= (async () => {
      try {
        const r = await this.db.query<ModelSnapshot>("SELECT id, nspam, nham, version, lr_bias_avg AS bias FROM bayes_models WHERE account_id IS NULL");
        const snapshot = r.rows[0] ?? { id: 0, nspam: 0, nham: 0, version: 0, bias: 0 };
        this.global = { snapshot, expires: Date.now() + this.globalTtlMs };
        return snapshot;
      } finally {
        this.globalLoading = null;
      }
    })();
    return this.globalLoading;
  }

  /**
   * An account's model and its counts for the hashes in one query (the version is read each time,
   * so a learn by any process is seen by the next classification); null when it has none.
   */
  async accountCounts(accountId: number, hashes: string[]): Promise<{ model: ModelSnapshot; counts: TokenStats[] } | null> {
    const r = await this.db.query<ModelSnapshot>(
      "SELECT id, nspam, nham, version, 0::float8 AS bias FROM bayes_models WHERE account_id = $1",
      [accountId],
    );
    const model = r.rows[0];
    if (!model) return null;
    return { model, counts: await this.counts(model, hashes) };
  }

  /** Counts (and logistic weights) of the hashes in a model at its version: cached ones, the rest in one query. */
  async counts(model: ModelSnapshot, hashes: string[]): Promise<TokenStats[]> {
    const version = `${model.id}:${model.version}`;
    const out: Array<TokenStats | undefined> = hashes.map((h) => this.cache.get(version, h));
    const missing = hashes.filter((_, i) => out[i] === undefined);
    if (missing.length > 0) {
      // the logistic weight as classification uses it: its moving average brought up to the model's step (averagedWeight)
      const r = await this.db.query<{ token: string; nspam: number; nham: number; weight: number }>(
        `SELECT t.token::text AS token, t.nspam, t.nham, t.lr_weight + (t.lr_avg - t.lr_weight) * power($3::float8, greatest(m.lr_steps - t.lr_last, 0)) AS weight
         FROM bayes_tokens t JOIN bayes_models m ON m.id = t.model_id WHERE t.model_id = $1 AND t.token = ANY($2::bigint[])`,
        [model.id, missing, averageDecay(this.logistic)],
      );
      const found = new Map(r.rows.map((row) => [row.token, { nspam: row.nspam, nham: row.nham, weight: row.weight }]));
      for (const h of missing) this.cache.set(version, h, found.get(h) ?? ZERO);
      for (let i = 0; i < hashes.length; i++) out[i] ??= found.get(hashes[i]!) ?? ZERO;
    }
    return out as TokenStats[];
  }
}

/** The model's id, its row locked for this transaction; created for an account when `create`. */
async function lockModel(tx: Queryable, accountId: number | null, create: true): Promise<number>;
async function lockModel(tx: Queryable, accountId: number | null, create: boolean): Promise<number | null>;
async function lockModel(tx: Queryable, accountId: number | null, create: boolean): Promise<number | null> {
  if (accountId !== null && create) {
    await tx.query("INSERT INTO bayes_models (account_id) VALUES ($1) ON CONFLICT (account_id) DO NOTHING", [accountId]);
  }
  const r = await tx.query<{ id: number }>("SELECT id FROM bayes_models WHERE account_id IS NOT DISTINCT FROM $1 FOR UPDATE", [accountId]);
  const id = r.rows[0]?.id;
  if (id === undefined && create) throw new Error("the global Bayes model is missing (migration 0008)");
  return id ?? null;
}

async function unlearn(tx: Queryable, model: number, messageKey: string, cls: SpamClass, hashes: string[]): Promise<void> {
  const spam = cls === "spam" ? 1 : 0;
  await tx.query(
    `UPDATE bayes_tokens SET nspam = greatest(nspam - $2, 0), nham = greatest(nham - $3, 0)
     WHERE model_id = $1 AND token = ANY($4::bigint[])`,
    [model, spam, 1 - spam, hashes],
  );
  await tx.query("DELETE FROM bayes_tokens WHERE model_id = $1 AND token = ANY($2::bigint[]) AND nspam = 0 AND nham = 0", [model, hashes]);
  await tx.query("DELETE FROM bayes_learned WHERE model_id = $1 AND message_key = $2", [model, messageKey]);
  await tx.query("UPDATE bayes_models SET nspam = greatest(nspam - $2, 0), nham = greatest(nham - $3, 0), version = version + 1 WHERE id = $1", [
    model,
    spam,
    1 - spam,
  ]);
}

/** In first-seen order: learnMany sorts what it writes itself. */
function uniqueHashes(tokens: string[]): string[] {
  const set = new Set<string>();
  for (const t of tokens) set.add(tokenHash(t));
  return [...set];
}
