/**
 * The pregreet (early-talker) test, as Postfix's postscreen does it: a client address that has not
 * passed recently waits `delayMs` for the greeting; a client that talks before the greeting is an
 * early talker (a spam signal, recorded as a session symbol, not a refusal). An address that waited
 * is remembered for `passTtlMs` and greeted at once, so the wait costs one connection per sender
 * and never caps the throughput of a legitimate MTA.
 */
export class PregreetGate {
  private readonly passed = new Map<string, number>();

  constructor(
    private readonly delayMs: number,
    private readonly passTtlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long a new session from `ip` waits before the greeting. */
  delayFor(ip: string): number {
    if (this.delayMs <= 0) return 0;
    const until = this.passed.get(ip);
    if (until !== undefined && until > this.now()) return 0;
    if (until !== undefined) this.passed.delete(ip);
    return this.delayMs;
  }

  /** The session from `ip` waited for the greeting (it was delayed and did not talk first). */
  recordPass(ip: string): void {
    if (this.delayMs <= 0) return;
    this.passed.delete(ip); // re-insert: the Map's order is the eviction order
    this.passed.set(ip, this.now() + this.passTtlMs);
    if (this.passed.size > this.maxEntries) this.passed.delete(this.passed.keys().next().value!);
  }

  /** An early talker is tested again on its next connection. */
  recordFail(ip: string): void {
    this.passed.delete(ip);
  }
}
