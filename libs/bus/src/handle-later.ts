/**
 * Thrown by a handler: the record is not due before `at` (ms since epoch). Its partition pauses
 * until then and the same record is handed over again; nothing is committed, nothing counted as a
 * failure (no back-off step, no warning), and other partitions go on meanwhile. For records that
 * carry their own due time, e.g. the `delivery.retry.<tier>` topics (`notBefore`).
 */
export class HandleLater extends Error {
  constructor(readonly at: number) {
    super(`record not due before ${new Date(at).toISOString()}`);
    this.name = "HandleLater";
  }
}

/** True for a HandleLater (also one from another copy of this module, by its shape). */
export function isHandleLater(err: unknown): err is HandleLater {
  if (err instanceof HandleLater) return true;
  return err instanceof Error && err.name === "HandleLater" && typeof (err as { at?: unknown }).at === "number";
}

/** setTimeout's longest delay (a signed 32-bit number of ms); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calls `fn` (never synchronously) once `Date.now() >= at`, with a single timer at a time: a delay longer than
 * setTimeout allows is waited for in steps, re-checking the clock at each. Returns a cancel function.
 */
export function callAt(at: number, fn: () => void, options: { unref?: boolean } = {}): () => void {
  let timer: NodeJS.Timeout | undefined;
  let cancelled = false;
  const arm = () => {
    const delay = Math.max(0, at - Date.now());
    timer = setTimeout(() => {
      if (cancelled) return;
      if (Date.now() >= at) fn();
      else arm();
    }, Math.min(delay === 0 ? 0 : delay + 1, MAX_TIMER_MS));
    if (options.unref) timer.unref();
  };
  arm();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
