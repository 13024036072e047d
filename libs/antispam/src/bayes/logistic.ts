/**
 * Logistic regression over a message's token hashes (the features of the Bayes counts, present or
 * not), learned online: each learned message is one AdaGrad step. It ranks spam above ham better
 * than the chi-square combination where few false positives are allowed (cross-validated on the
 * benchmark's TRAIN set: bench/spam/tune.ts `logistic`; docs/spam-filter.md), because it weighs
 * tokens against each other instead of treating them as independent evidence.
 */
import type { ScoreCurve } from "./math.ts";

export interface LogisticOptions {
  /** AdaGrad's learning rate (a token's first step moves its weight by about this). */
  rate: number;
}

/** Chosen by cross-validation on TRAIN (bench/spam/tune.ts logistic). */
export const defaultLogisticOptions: LogisticOptions = { rate: 0.7 };

/** A token's weight and the sum of its squared gradients (AdaGrad's per-token step size). */
export interface TokenWeight {
  w: number;
  g2: number;
}

/** The bias learns ten times slower than a token: it only follows the class balance. */
const BIAS_RATE = 0.1;

/** The message's features count 1/√n each, so long and short messages land on one scale. */
function margin(bias: number, weights: Iterable<number>, n: number): number {
  const scale = 1 / Math.sqrt(n || 1);
  let z = bias;
  for (const w of weights) z += w * scale;
  return z;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The spam probability of a message whose (unique) tokens have these weights. */
export function logisticProbability(bias: number, weights: number[]): number {
  return sigmoid(margin(bias, weights, weights.length));
}

/**
 * One AdaGrad step for a message (its unique token hashes) of the given class: updates `weights`
 * in place (absent tokens start at 0) and returns the new bias.
 */
export function logisticStep(bias: number, weights: Map<string, TokenWeight>, hashes: string[], spam: boolean, o: LogisticOptions): number {
  const n = hashes.length;
  const scale = 1 / Math.sqrt(n || 1);
  const current = hashes.map((h) => {
    let tw = weights.get(h);
    if (!tw) weights.set(h, (tw = { w: 0, g2: 0 }));
    return tw;
  });
  const g = sigmoid(margin(bias, current.map((tw) => tw.w), n)) - (spam ? 1 : 0);
  const gi = g * scale;
  if (gi !== 0) {
    for (const tw of current) {
      tw.g2 += gi * gi;
      tw.w -= (o.rate * gi) / Math.sqrt(tw.g2);
    }
  }
  return bias - o.rate * BIAS_RATE * g;
}

/**
 * Probability → score for the logistic model: junk (5.1) from `junkAt`, 0 at half of it, the ham
 * side as the Bayes curve's. Cross-validation chose 0.95 (defaultLogisticCurve).
 */
export function logisticCurveAt(junkAt: number): ScoreCurve {
  return [
    [0, -3],
    [0.02, -2],
    [0.1, -1],
    [junkAt / 2, 0],
    [junkAt, 5.1],
    [1, 6],
  ];
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
