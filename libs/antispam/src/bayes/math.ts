/**
 * Robinson's f(w) and Fisher's chi-square combining (Gary Robinson, "A Statistical Approach to the
 * Spam Problem"; as in SpamBayes, SpamAssassin and Bogofilter).
 */
export interface CombineOptions {
  /** Robinson's s: the strength of the prior x against the token's own evidence. */
  s: number;
  /** Robinson's x: the probability assumed for a token never seen. */
  x: number;
  /** Tokens whose f(w) is within this of 0.5 are ignored. */
  minDev: number;
  /** At most this many tokens, the farthest from 0.5, are combined. */
  maxTokens: number;
}

/** Chosen by 5-fold cross-validation on the benchmark's TRAIN set (bench/spam/tune.ts; docs/spam-benchmark.md). */
export const defaultCombineOptions: CombineOptions = { s: 1, x: 0.55, minDev: 0.1, maxTokens: 300 };

export interface TokenCounts {
  nspam: number;
  nham: number;
}

/** f(w) of a token seen in `c.nspam` of `nspam` spams and `c.nham` of `nham` hams. */
export function robinson(c: TokenCounts, nspam: number, nham: number, o: CombineOptions): number {
  const n = c.nspam + c.nham;
  if (n === 0) return o.x;
  const spamRate = nspam > 0 ? c.nspam / nspam : 0;
  const hamRate = nham > 0 ? c.nham / nham : 0;
  const p = spamRate + hamRate === 0 ? o.x : spamRate / (spamRate + hamRate);
  return (o.s * o.x + n * p) / (o.s + n);
}

/**
 * The spam probability of a message from its tokens' counts: 0 = ham, 1 = spam, about 0.5 =
 * unsure (no evidence, or strong evidence both ways). `used` is how many tokens counted.
 */
export function combine(counts: TokenCounts[], nspam: number, nham: number, o: CombineOptions): { probability: number; used: number } {
  const fs: number[] = [];
  for (const c of counts) {
    const f = robinson(c, nspam, nham, o);
    if (Math.abs(f - 0.5) >= o.minDev) fs.push(f);
  }
  if (fs.length === 0) return { probability: 0.5, used: 0 };
  if (fs.length > o.maxTokens) {
    fs.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
    fs.length = o.maxTokens;
  }
  let lnSpam = 0; // Σ ln(1 - f)
  let lnHam = 0; // Σ ln f
  for (const f of fs) {
    const clamped = Math.min(Math.max(f, 1e-6), 1 - 1e-6);
    lnSpam += Math.log(1 - clamped);
    lnHam += Math.log(clamped);
  }
  const n = fs.length;
  const spamminess = 1 - chi2Q(-2 * lnSpam, 2 * n);
  const hamminess = 1 - chi2Q(-2 * lnHam, 2 * n);
  return { probability: (1 + spamminess - hamminess) / 2, used: n };
}

/** P(chi² ≥ x2) with v (even) degrees of freedom, computed in the log domain (no underflow). */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let logTerm = -m;
  let sum = Math.exp(logTerm);
  for (let i = 1; i < v / 2; i++) {
    logTerm += Math.log(m / i);
    sum += Math.exp(logTerm);
  }
  return Math.min(sum, 1);
}

/**
 * A probability → score map: straight lines between the points (probability ascending). The
 * default follows SpamAssassin's BAYES_00..BAYES_999 steps, steeper at the ends so that Bayes
 * alone at ≥ 0.999 (the junk point chosen by cross-validation on TRAIN, see scoreCurveAt) reaches
 * the junk threshold (5) and a clear ham gets a real push down.
 */
export type ScoreCurve = Array<[probability: number, score: number]>;

/**
 * The curve whose junk point (score 5.1: Bayes alone reaches the junk threshold 5) is at
 * probability `junkAt`; +1.5 and +3 at 44 % and 88 % of the way from 0.65 to it, +5.6 ten times
 * closer to 1, +6 at 1. The ham side is fixed: 0 → −3, 0.01 → −2, 0.1 → −1, 0.35…0.65 → 0.
 * bench/spam/tune.ts moves `junkAt` along this family.
 */
export function scoreCurveAt(junkAt: number): ScoreCurve {
  return [
    [0, -3],
    [0.01, -2],
    [0.1, -1],
    [0.35, 0],
    [0.65, 0],
    [0.65 + (junkAt - 0.65) * 0.44, 1.5],
    [0.65 + (junkAt - 0.65) * 0.88, 3],
    [junkAt, 5.1],
    [1 - (1 - junkAt) / 10, 5.6],
    [1, 6],
  ];
}

/** Junk at p ≥ 0.999 (chosen by blocked 5-fold cross-validation on TRAIN: docs/spam-benchmark.md). */
export const defaultScoreCurve: ScoreCurve = scoreCurveAt(0.999);

export function scoreFor(probability: number, curve: ScoreCurve): number {
  if (probability <= curve[0]![0]) return curve[0]![1];
  for (let i = 1; i < curve.length; i++) {
    const [p1, s1] = curve[i]!;
    if (probability <= p1) {
      const [p0, s0] = curve[i - 1]!;
      return Math.round((s0 + ((probability - p0) / (p1 - p0)) * (s1 - s0)) * 100) / 100;
    }
  }
  return curve[curve.length - 1]![1];
}

/** A signed 64-bit hash of a token as a decimal string (PostgreSQL bigint): two 32-bit FNV-1a variants. */
export function tokenHash(token: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = fmix(h1);
  h2 = fmix(h2 ^ token.length);
  return BigInt.asIntN(64, (BigInt(h1 >>> 0) << 32n) | BigInt(h2 >>> 0)).toString();
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
