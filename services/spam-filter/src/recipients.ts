import type { RecipientAccount } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import { resolveRecipient, type Resolution } from "@postline/directory";

/**
 * The local accounts among a message's envelope recipients, through the directory's resolution
 * (aliases, sub-addressing, catch-all), each account once with the recipients that lead to it.
 * Remote recipients (submitted mail, alias destinations elsewhere) and recipients that lead nowhere
 * have no account and no account verdict. Resolutions are reused for `ttlMs` (default 30 s):
 * consecutive messages mostly go to the same recipients, and each resolution costs several queries.
 * A failed lookup is not cached and throws: the bus retries the event.
 */
export class RecipientAccounts {
  private readonly entries = new Map<string, { expires: number; resolution: Promise<Resolution> }>();

  constructor(
    private readonly db: Queryable,
    private readonly options: { ttlMs?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  async resolve(rcptTo: readonly string[]): Promise<RecipientAccount[]> {
    const accounts = new Map<number, RecipientAccount>();
    for (const rcpt of rcptTo) {
      const r = await this.resolution(rcpt);
      if (r.kind !== "deliver") continue;
      for (const a of r.accounts) {
        let entry = accounts.get(a.id);
        if (!entry) accounts.set(a.id, (entry = { accountId: a.id, recipients: [] }));
        if (!entry.recipients.includes(rcpt)) entry.recipients.push(rcpt);
      }
    }
    return [...accounts.values()];
  }

  private resolution(address: string): Promise<Resolution> {
    const ttlMs = this.options.ttlMs ?? 30_000;
    if (ttlMs <= 0) return resolveRecipient(this.db, address);
    const now = (this.options.now ?? Date.now)();
    const key = address.toLowerCase();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.resolution;
    const resolution = resolveRecipient(this.db, address);
    const entry = { expires: now + ttlMs, resolution };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > (this.options.maxEntries ?? 10_000)) this.entries.delete(this.entries.keys().next().value!);
    resolution.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return resolution;
  }
}
