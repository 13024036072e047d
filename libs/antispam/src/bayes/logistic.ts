/**
 * Logistic regression over a message's token hashes (the features of the Bayes counts, present or
 * not), learned online: each learned message is one AdaGrad step. It ranks spam above ham better
 * than the chi-square combination where few false positives are allowed (cross-validated on the
 * benchmark's TRAIN set: bench/spam/tune.ts `logistic`; docs/spam-benchmark.md), because it weighs
 * tokens against each other instead of treating them as independent evidence.
 */
import type { ScoreCurve } from "./math.ts";

/** Chosen by cross-validation on TRAIN (bench/spam/tune.ts logistic). */
export const defaultLogisticOptions: LogisticOptions = { rate: 0.7, averageSteps: 300 };

export interface LogisticOptions {
  /** AdaGrad's learning rate (a token's first step moves its weight by about this). */
  rate: number;
  /**
   * Classification uses each weight's exponential moving average over about this many of the
   * model's steps (Polyak averaging), not the weight itself: the verdict does not hang on the
   * last few messages learned, and new learning still counts after millions of steps.
   */
  averageSteps: number;
}

/**
 * A token's weight, the sum of its squared gradients (AdaGrad's per-token step size), its moving
 * average, and the model step at which it last changed (the average is brought up to date lazily:
 * between changes the weight is constant, so the average moves towards it geometrically).
 */
export interface TokenWeight {
  w: number;
  g2: number;
  avg: number;
  last: number;
}

/** The model-wide part: the bias and its moving average, and how many steps were taken. */
export interface LogisticState {
  bias: number;
  biasAvg: number;
  steps: number;
}

export const initialLogisticState = (): LogisticState => ({ bias: 0, biasAvg: 0, steps: 0 });

/** The bias learns ten times slower than a token: it only follows the class balance. */
const BIAS_RATE = 0.1;

/** The moving average's factor per step. */
export const averageDecay = (o: Pick<LogisticOptions, "averageSteps">): number => 1 - 1 / Math.max(1, o.averageSteps);

/** The message's features count 1/√n each, so long and short messages land on one scale. */
function margin(bias: number, weights: Iterable<number>, n: number): number {
  const scale = 1 / Math.sqrt(n || 1);
  let z = bias;
  for (const w of weights) z += w * scale;
  return z;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A token's moving average at model step `steps` (what classification uses). */
export function averagedWeight(tw: TokenWeight, steps: number, o: Pick<LogisticOptions, "averageSteps">): number {
  return tw.w + (tw.avg - tw.w) * averageDecay(o) ** Math.max(0, steps - tw.last);
}

/** The spam probability of a message from its (unique) tokens' averaged weights and the averaged bias. */
export function logisticProbability(bias: number, weights: number[]): number {
  return sigmoid(margin(bias, weights, weights.length));
}

/**
 * One AdaGrad step for a message (its unique token hashes) of the given class, at the current
 * weights: updates `weights` (absent tokens start at 0) and `state` in place.
 */
export function logisticStep(state: LogisticState, weights: Map<string, TokenWeight>, hashes: string[], spam: boolean, o: LogisticOptions): void {
  const n = hashes.length;
  const scale = 1 / Math.sqrt(n || 1);
  const t = state.steps + 1;
  const decay = averageDecay(o);
  const current = hashes.map((h) => {
    let tw = weights.get(h);
    if (!tw) weights.set(h, (tw = { w: 0, g2: 0, avg: 0, last: state.steps }));
    return tw;
  });
  const g = sigmoid(margin(state.bias, current.map((tw) => tw.w), n)) - (spam ? 1 : 0);
  const gi = g * scale;
  if (gi !== 0) {
    for (const tw of current) {
      const before = averagedWeight(tw, t - 1, o);
      tw.g2 += gi * gi;
      tw.w -= (o.rate * gi) / Math.sqrt(tw.g2);
      tw.avg = decay * before + (1 - decay) * tw.w;
      tw.last = t;
    }
  }
  state.bias -= o.rate * BIAS_RATE * g;
  state.biasAvg = decay * state.biasAvg + (1 - decay) * state.bias;
  state.steps = t;
}

/**
 * The most the regression scores by itself, below junk (5): a message is junk on the regression's
 * word only when something else agrees — the chi-square near 1 or a rule — as in SpamAssassin and
 * Rspamd, where Bayes alone never reaches the spam threshold. Cross-validation under eight training
 * orders (docs/spam-benchmark.md stage 18): without it, the orders that gave an unseen sender's
 * newsletter a probability near 1 made it junk with no other sign.
 */
export const LOGISTIC_MAX_SCORE = 4.5;

/**
 * Probability → score for the logistic model: a straight line from 0 at half of `junkAt` to 5.1
 * (junk) at `junkAt`, cut at `maxScore`; the ham side as the Bayes curve's. Cross-validation chose
 * 0.95 with the cut at 4.5 (defaultLogisticCurve; docs/spam-benchmark.md stage 18).
 */
export function logisticCurveAt(junkAt: number, maxScore = LOGISTIC_MAX_SCORE): ScoreCurve {
  const line: ScoreCurve = [[0, -3], [0.02, -2], [0.1, -1], [junkAt / 2, 0], [junkAt, 5.1], [1, 6]];
  const cut = line.findIndex(([, score]) => score > maxScore);
  if (cut <= 0) return line;
  const [p0, s0] = line[cut - 1]!;
  const [p1, s1] = line[cut]!;
  return [...line.slice(0, cut), [p0 + ((maxScore - s0) / (s1 - s0)) * (p1 - p0), maxScore], [1, maxScore]];
}

export const defaultLogisticCurve: ScoreCurve = logisticCurveAt(0.95);

/**
 * A training set in the order to learn it: the logistic regression learns online, so messages of
 * one class in a row would drag it one way and then the other; a seeded shuffle interleaves them
 * (the same files give the same model).
 */
export function trainingOrder<T>(items: T[], seed = 1): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
