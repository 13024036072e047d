/**
 * Runs `task` at most once per `intervalMs`, when called (from an observer, after its work): no
 * timer to stop, and a process that classifies nothing does no housekeeping. A failure is thrown to
 * the caller (the observer's failure is logged and counted) and retried at the next interval.
 */
export function every(intervalMs: number, task: () => Promise<void>): () => Promise<void> {
  let last = 0;
  let running: Promise<void> | null = null;
  return async () => {
    const now = Date.now();
    if (running || now - last < intervalMs) return;
    last = now;
    running = task();
    try {
      await running;
    } finally {
      running = null;
    }
  };
}
