import type { ContentView } from "../message.ts";
import type { AccountPolicy } from "../policy.ts";
import type { Rule, RuleHit } from "../rules/rule.ts";
import { combine, defaultCombineOptions, defaultScoreCurve, scoreFor, type CombineOptions, type ScoreCurve, type TokenCounts } from "./math.ts";
import type { BayesStore, ModelSnapshot } from "./store.ts";

export { BayesStore, type BayesStoreOptions, type LearnItem, type LearnOutcome, type SpamClass, type ModelSnapshot } from "./store.ts";
export { bayesTokens, messageKeyOf, tokenize, defaultTokenizeOptions, type TokenizeOptions } from "./tokenize.ts";
export { stripHtml } from "./html.ts";
export { combine, chi2Q, robinson, scoreFor, scoreCurveAt, tokenHash, defaultCombineOptions, defaultScoreCurve, type CombineOptions, type ScoreCurve, type TokenCounts } from "./math.ts";

export interface BayesOptions {
  /** The global model applies once it learned this many spams and hams (SpamAssassin: 200/200). */
  minSpam?: number;
  minHam?: number;
  /**
   * An account's counts are added to the global model's with this weight: one message the user
   * judged counts as this many of the global corpus (default 10).
   */
  accountWeight?: number;
  /** An account model applies once it learned this many messages (default 1). */
  accountMinLearned?: number;
  combine?: Partial<CombineOptions>;
  /** Probability → score (default: defaultScoreCurve; ≥ 0.999 alone reaches the junk threshold 5). */
  curve?: ScoreCurve;
}

interface Resolved {
  minSpam: number;
  minHam: number;
  accountWeight: number;
  accountMinLearned: number;
  combine: CombineOptions;
  curve: ScoreCurve;
}

function resolve(options: BayesOptions = {}): Resolved {
  return {
    minSpam: options.minSpam ?? 200,
    minHam: options.minHam ?? 200,
    accountWeight: options.accountWeight ?? 10,
    accountMinLearned: options.accountMinLearned ?? 1,
    combine: { ...defaultCombineOptions, ...options.combine },
    curve: options.curve ?? defaultScoreCurve,
  };
}

interface GlobalEvaluation {
  model: ModelSnapshot;
  counts: TokenCounts[];
  hashes: string[];
}

/** The global model's counts for a message, once per content view and store (rule and policies share it). */
const evaluations = new WeakMap<BayesStore, WeakMap<ContentView, Promise<GlobalEvaluation>>>();

function globalEvaluation(store: BayesStore, content: ContentView): Promise<GlobalEvaluation> {
  let byContent = evaluations.get(store);
  if (!byContent) evaluations.set(store, (byContent = new WeakMap()));
  let evaluation = byContent.get(content);
  if (!evaluation) {
    evaluation = (async () => {
      const hashes = store.hashesOf(content);
      const model = await store.globalModel();
      const counts = model.nspam + model.nham > 0 ? await store.counts(model, hashes) : hashes.map(() => ({ nspam: 0, nham: 0 }));
      return { model, counts, hashes };
    })();
    byContent.set(content, evaluation);
    evaluation.catch(() => byContent.delete(content));
  }
  return evaluation;
}

function globalScore(g: GlobalEvaluation, o: Resolved): { probability: number; score: number } | null {
  if (g.model.nspam < o.minSpam || g.model.nham < o.minHam) return null;
  const { probability } = combine(g.counts, g.model.nspam, g.model.nham, o.combine);
  return { probability, score: scoreFor(probability, o.curve) };
}

function hit(spamName: string, hamName: string, probability: number, score: number): RuleHit[] {
  if (score === 0) return [];
  return [{ name: score > 0 ? spamName : hamName, score, detail: `p=${probability.toFixed(4)}` }];
}

/** The global model's verdict: BAYES_SPAM (score > 0) or BAYES_HAM (< 0), detail = the probability. */
export function bayesRule(store: BayesStore, options?: BayesOptions): Rule {
  const o = resolve(options);
  return {
    name: "bayes",
    async check(ctx) {
      const result = globalScore(await globalEvaluation(store, ctx.content), o);
      return result ? hit("BAYES_SPAM", "BAYES_HAM", result.probability, result.score) : [];
    },
  };
}

/**
 * The account's model: its counts (× accountWeight) added to the global model's, so that what the
 * user taught decides the tokens it knows and the global corpus the rest. The hit is the difference
 * between the score of that combined model and the global rule's, so the account's verdict counts
 * the combined model instead of the global one (never both): BAYES_USER_SPAM when it is more
 * spammy, BAYES_USER_HAM when less.
 */
export function accountBayesPolicy(store: BayesStore, options?: BayesOptions): AccountPolicy {
  const o = resolve(options);
  return {
    name: "bayes-account",
    async check(ctx) {
      const g = await globalEvaluation(store, ctx.content);
      const account = await store.accountCounts(ctx.accountId, g.hashes);
      if (!account || account.model.nspam + account.model.nham < o.accountMinLearned) return [];
      const w = o.accountWeight;
      const nspam = g.model.nspam + w * account.model.nspam;
      const nham = g.model.nham + w * account.model.nham;
      if (nspam < o.minSpam || nham < o.minHam) return [];
      const counts = g.counts.map((c, i) => ({ nspam: c.nspam + w * account.counts[i]!.nspam, nham: c.nham + w * account.counts[i]!.nham }));
      const { probability } = combine(counts, nspam, nham, o.combine);
      const base = globalScore(g, o)?.score ?? 0;
      const delta = Math.round((scoreFor(probability, o.curve) - base) * 100) / 100;
      return hit("BAYES_USER_SPAM", "BAYES_USER_HAM", probability, delta);
    },
  };
}
