export interface BackoffOptions {
  /** Delay before the first retry (default 200 ms). */
  initialMs?: number;
  /** The longest delay between two attempts (default 30 s). */
  maxMs?: number;
}

/** Exponential back-off with ±20 % jitter: the delay before retry number `attempt` (1-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 200;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.min(max, base * (0.8 + Math.random() * 0.4)));
}
