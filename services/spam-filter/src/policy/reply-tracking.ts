import type { AccountContext, AccountPolicy, RuleHit } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import type { ObservedVerdict, VerdictObserver } from "../policies.ts";
import { AccountCache } from "./account-cache.ts";
import { every } from "./housekeeping.ts";
import { sendersOf } from "./senders.ts";

// Reply tracking: the envelope recipients of every message an account submitted are remembered
// (spam_reply_contacts); inbound mail from one of them scores REPLY_TRUSTED for that account when
// the matching identity is authenticated (envelope sender with SPF pass for its domain, or From
// with DMARC pass / an aligned DKIM pass), otherwise only REPLY_UNVERIFIED (a forged From of a
// known correspondent is worth next to nothing). Bounded: at most maxContacts per account (the
// most recent) and none older than maxAgeDays.

export interface ReplyTrackingOptions {
  maxContacts: number;
  maxAgeDays: number;
  /** How often expired contacts are deleted (default 10 minutes). */
  pruneIntervalMs?: number;
  /**
   * The policy's lookups, cached (replyContactsCache). The observer of the same process drops an
   * account's entries when it records contacts of that account; other replicas see them within the
   * cache's seconds.
   */
  cache?: AccountCache<string[]>;
}

/** The reply-contact lookups of a process, cached for `seconds` (0: not cached); share it between policy and observer. */
export function replyContactsCache(seconds: number, maxEntries?: number): AccountCache<string[]> {
  return new AccountCache<string[]>(seconds * 1000, maxEntries);
}

export function replyTrackingObserver(db: Queryable, options: ReplyTrackingOptions): VerdictObserver {
  const prune = every(options.pruneIntervalMs ?? 10 * 60_000, async () => {
    await db.query(
      `DELETE FROM spam_reply_contacts WHERE (account_id, address) IN
         (SELECT account_id, address FROM spam_reply_contacts WHERE last_sent_at < now() - make_interval(days => $1) LIMIT 10000)`,
      [options.maxAgeDays],
    );
  });
  return {
    name: "reply-tracking",
    async observe({ event, source, result }: ObservedVerdict): Promise<void> {
      const account = event.client.authUser?.toLowerCase();
      // Mail the filter would not let out (quarantined, rejected) is not a conversation.
      if (source !== "submission" || !account || result.action === "quarantine" || result.action === "reject") return;
      const recipients = [...new Set(event.envelope.rcptTo.map((r) => r.toLowerCase()))].filter((r) => r.includes("@") && r !== account);
      if (recipients.length > 0) {
        // xmax = 0: a new row (not an update), the only case that can go beyond maxContacts
        const upserted = await db.query<{ account_id: number; inserted: boolean }>(
          `INSERT INTO spam_reply_contacts (account_id, address, last_sent_at)
           SELECT a.id, r, $3 FROM accounts a, unnest($2::text[]) AS r WHERE a.address = $1
           ON CONFLICT (account_id, address) DO UPDATE SET last_sent_at = GREATEST(spam_reply_contacts.last_sent_at, EXCLUDED.last_sent_at)
           RETURNING account_id, (xmax = 0) AS inserted`,
          [account, recipients, new Date(event.receivedAt)],
        );
        const accountId = upserted.rows[0]?.account_id;
        if (accountId !== undefined) options.cache?.forget(accountId);
        if (accountId !== undefined && upserted.rows.some((r) => r.inserted)) {
          await db.query(
            `DELETE FROM spam_reply_contacts WHERE account_id = $1 AND address IN
               (SELECT address FROM spam_reply_contacts WHERE account_id = $1 ORDER BY last_sent_at DESC, address OFFSET $2)`,
            [accountId, options.maxContacts],
          );
        }
      }
      await prune();
    },
  };
}

export function replyTrackingPolicy(db: Queryable, options: Pick<ReplyTrackingOptions, "maxAgeDays" | "cache">): AccountPolicy {
  const cache = options.cache ?? replyContactsCache(0);
  return {
    name: "reply-tracking",
    async check(ctx: AccountContext): Promise<RuleHit[]> {
      if (ctx.source !== "inbound") return [];
      const senders = sendersOf(ctx.mailFrom, ctx.content, ctx.auth);
      const ids = [senders.envelope, senders.from].filter((s) => s !== null);
      if (ids.length === 0) return [];
      const addresses = ids.map((s) => s.address);
      const found = await cache.get(ctx.accountId, JSON.stringify(addresses), async () => {
        const r = await db.query<{ address: string }>(
          `SELECT address FROM spam_reply_contacts
            WHERE account_id = $1 AND address = ANY($2::text[]) AND last_sent_at >= now() - make_interval(days => $3)`,
          [ctx.accountId, addresses, options.maxAgeDays],
        );
        return r.rows.map((row) => row.address);
      });
      const known = new Set(found);
      const trusted = ids.find((s) => s.authenticated && known.has(s.address));
      if (trusted) return [{ name: "REPLY_TRUSTED", detail: trusted.address }];
      const claimed = ids.find((s) => known.has(s.address));
      return claimed ? [{ name: "REPLY_UNVERIFIED", detail: claimed.address }] : [];
    },
  };
}
