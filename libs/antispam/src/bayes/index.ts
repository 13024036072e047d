import type { ContentView } from "../message.ts";
import type { AccountPolicy } from "../policy.ts";
import type { Rule, RuleHit } from "../rules/rule.ts";
import { defaultLogisticCurve, logisticProbability } from "./logistic.ts";
import { combine, defaultCombineOptions, defaultScoreCurve, scoreFor, type CombineOptions, type ScoreCurve } from "./math.ts";
import type { BayesStore, ModelSnapshot, TokenStats } from "./store.ts";

export { defaultExpiryOptions, type ExpiryOptions } from "./expiry.ts";
export { BayesStore, type ExpiryResult, type BayesStoreOptions, type LearnItem, type LearnOutcome, type SpamClass, type ModelSnapshot, type TokenStats } from "./store.ts";
export {
  averageDecay,
  averagedWeight,
  initialLogisticState,
  type LogisticState,
  defaultLogisticCurve,
  defaultLogisticOptions,
  logisticCurveAt,
  LOGISTIC_MAX_SCORE,
  logisticProbability,
  logisticStep,
  trainingOrder,
  type LogisticOptions,
  type TokenWeight,
} from "./logistic.ts";
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
  /**
   * The global chi-square verdict (BAYES_SPAM/HAM) counts this fraction of its curve's score
   * (default 0.1): the global model's logistic regression (LOGREG_SPAM/HAM) is the main statistical
   * symbol, as chosen by cross-validation. Account models (BAYES_USER_*) always count in full.
   */
  globalWeight?: number;
  /** The logistic regression's probability → score (default: defaultLogisticCurve, the line through 0.95 cut at 4.5, below junk). */
  logisticCurve?: ScoreCurve;
  /** false: no LOGREG_* verdict, and the global chi-square counts in full (the classifier before the regression). Default true. */
  logistic?: boolean;
}

interface Resolved {
  minSpam: number;
  minHam: number;
  accountWeight: number;
  accountMinLearned: number;
  combine: CombineOptions;
  curve: ScoreCurve;
  globalWeight: number;
  logisticCurve: ScoreCurve;
  logistic: boolean;
}

function resolve(options: BayesOptions = {}): Resolved {
  return {
    minSpam: options.minSpam ?? 200,
    minHam: options.minHam ?? 200,
    accountWeight: options.accountWeight ?? 10,
    accountMinLearned: options.accountMinLearned ?? 1,
    combine: { ...defaultCombineOptions, ...options.combine },
    curve: options.curve ?? defaultScoreCurve,
    logistic: options.logistic ?? true,
    globalWeight: options.logistic === false ? 1 : (options.globalWeight ?? 0.1),
    logisticCurve: options.logisticCurve ?? defaultLogisticCurve,
  };
}

interface GlobalEvaluation {
  model: ModelSnapshot;
  counts: TokenStats[];
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
      const counts = model.nspam + model.nham > 0 ? await store.counts(model, hashes) : hashes.map(() => ({ nspam: 0, nham: 0, weight: 0 }));
      return { model, counts, hashes };
    })();
    byContent.set(content, evaluation);
    evaluation.catch(() => byContent.delete(content));
  }
  return evaluation;
}

const trained = (g: GlobalEvaluation, o: Resolved) => g.model.nspam >= o.minSpam && g.model.nham >= o.minHam;

const round2 = (x: number) => Math.round(x * 100) / 100;

interface Verdict {
  probability: number;
  score: number;
}

/** The global model's two verdicts as bayesRule scores them (null below the minimum training). */
function globalVerdicts(g: GlobalEvaluation, o: Resolved): { logistic: Verdict | null; chiSquare: Verdict } | null {
  if (!trained(g, o)) return null;
  const p = o.logistic ? logisticProbability(g.model.bias, g.counts.map((c) => c.weight)) : null;
  const { probability } = combine(g.counts, g.model.nspam, g.model.nham, o.combine);
  return {
    logistic: p === null ? null : { probability: p, score: scoreFor(p, o.logisticCurve) },
    chiSquare: { probability, score: round2(scoreFor(probability, o.curve) * o.globalWeight) },
  };
}

function hit(spamName: string, hamName: string, probability: number, score: number): RuleHit[] {
  if (score === 0) return [];
  return [{ name: score > 0 ? spamName : hamName, score, detail: `p=${probability.toFixed(4)}` }];
}

/**
 * The global model's verdicts, detail = the probability: the logistic regression's LOGREG_SPAM
 * (score > 0) or LOGREG_HAM (< 0), and the chi-square's BAYES_SPAM or BAYES_HAM at globalWeight.
 */
export function bayesRule(store: BayesStore, options?: BayesOptions): Rule {
  const o = resolve(options);
  return {
    name: "bayes",
    async check(ctx) {
      const verdicts = globalVerdicts(await globalEvaluation(store, ctx.content), o);
      if (!verdicts) return [];
      const { logistic, chiSquare } = verdicts;
      return [
        ...(logistic ? hit("LOGREG_SPAM", "LOGREG_HAM", logistic.probability, logistic.score) : []),
        ...hit("BAYES_SPAM", "BAYES_HAM", chiSquare.probability, chiSquare.score),
      ];
    },
  };
}

/**
 * The account's model: its counts (× accountWeight) added to the global model's, so that what the
 * user taught decides the tokens it knows and the global corpus the rest. For an account with a
 * model, that combined chi-square (on its full curve) is the statistical verdict *instead of* the
 * global model's two (LOGREG_* + BAYES_*): the hit is the difference, BAYES_USER_SPAM when the
 * account's verdict is more spammy, BAYES_USER_HAM when less. Counts, unlike the logistic
 * regression's weights, can be taken back exactly, which a user's correction needs.
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
      const global = globalVerdicts(g, o);
      const base = global ? (global.logistic?.score ?? 0) + global.chiSquare.score : 0;
      const delta = round2(scoreFor(probability, o.curve) - base);
      return hit("BAYES_USER_SPAM", "BAYES_USER_HAM", probability, delta);
    },
  };
}
