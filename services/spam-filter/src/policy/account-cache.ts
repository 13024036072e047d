/**
 * A short-lived, bounded cache of per-account lookups (allow/block list matches, reply contacts),
 * keyed by account id and the lookup's inputs. A change made elsewhere (the admin API, the CLI,
 * another replica) shows once the entry expires, within ttlMs; `forget(account)` drops an
 * account's entries at once when the change is made in this process. ttlMs 0: nothing is cached.
 */
export class AccountCache<V> {
  private readonly accounts = new Map<number, Map<string, { value: V; expires: number }>>();
  private entries = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value, or the loaded one (cached for ttlMs). */
  async get(accountId: number, key: string, load: () => Promise<V>): Promise<V> {
    if (this.ttlMs <= 0) return load();
    const now = Date.now();
    const hit = this.accounts.get(accountId)?.get(key);
    if (hit && hit.expires > now) return hit.value;
    const value = await load();
    // Bounded: when full, start over (entries live only seconds anyway).
    if (this.entries >= this.maxEntries) this.clear();
    let perAccount = this.accounts.get(accountId);
    if (!perAccount) this.accounts.set(accountId, (perAccount = new Map()));
    if (!perAccount.has(key)) this.entries++;
    perAccount.set(key, { value, expires: now + this.ttlMs });
    return value;
  }

  forget(accountId: number): void {
    const perAccount = this.accounts.get(accountId);
    if (!perAccount) return;
    this.entries -= perAccount.size;
    this.accounts.delete(accountId);
  }

  clear(): void {
    this.accounts.clear();
    this.entries = 0;
  }

  get size(): number {
    return this.entries;
  }
}
