import type { Queryable } from "@postline/db";
import { resolveRecipient, type Resolution, type ResolvedAccount } from "@postline/directory";
import type { MailClassified } from "@postline/events";

/** Where one message goes, after aliases and catch-alls. */
export interface RecipientPlan {
  /** Local accounts, each once however many envelope recipients lead to it. */
  local: ResolvedAccount[];
  /** Remote addresses (alias destinations, or recipients of submitted mail): issue 5's remote part. */
  remote: string[];
  /** Recipients that lead nowhere any more (removed since RCPT accepted them), with the reason. */
  failed: { recipient: string; reason: string }[];
}

export async function planRecipients(db: Queryable, event: MailClassified, resolutions?: ResolutionCache): Promise<RecipientPlan> {
  const local = new Map<number, ResolvedAccount>();
  const remote = new Set<string>();
  const failed: RecipientPlan["failed"] = [];
  for (const rcpt of event.envelope.rcptTo) {
    const r = resolutions ? await resolutions.resolve(db, rcpt) : await resolveRecipient(db, rcpt);
    switch (r.kind) {
      case "deliver":
        for (const a of r.accounts) if (!local.has(a.id)) local.set(a.id, a);
        for (const address of r.remote) remote.add(address);
        break;
      case "not-local-domain":
        // Submitted mail and notices go out; inbound mail for a domain removed since RCPT is not relayed.
        if (event.source !== "inbound") remote.add(rcpt.toLowerCase());
        else failed.push({ recipient: rcpt.toLowerCase(), reason: `domain ${r.domain} is no longer local` });
        break;
      case "unknown-user":
        failed.push({ recipient: r.address, reason: "no such user here any more" });
        break;
      case "disabled":
        failed.push({ recipient: r.address, reason: "account disabled" });
        break;
      case "invalid-address":
        failed.push({ recipient: rcpt, reason: r.reason });
        break;
    }
  }
  return { local: [...local.values()], remote: [...remote], failed };
}

/**
 * Resolutions that lead somewhere (`deliver`), reused for `ttlMs`: consecutive messages mostly go to
 * the same recipients, and each resolution costs several directory queries. Anything else is
 * resolved every time, so a recipient that did not exist, or was disabled, is seen at once when that
 * changes; an account removed or disabled meanwhile may still get mail for up to `ttlMs` (its
 * mailbox gone, the copy is recorded as deferred). At most `maxEntries` addresses are kept.
 */
export class ResolutionCache {
  private readonly entries = new Map<string, { expires: number; resolution: Promise<Resolution> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(db: Queryable, address: string): Promise<Resolution> {
    if (this.ttlMs <= 0) return resolveRecipient(db, address);
    const key = address.toLowerCase();
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > t) return hit.resolution;
    if (hit) this.entries.delete(key);
    const resolution = resolveRecipient(db, address);
    const entry = { expires: t + this.ttlMs, resolution };
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    resolution.then((r) => {
      if (r.kind !== "deliver") forget();
    }, forget);
    return resolution;
  }
}
