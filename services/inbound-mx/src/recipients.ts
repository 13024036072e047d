import type { Queryable } from "@postline/db";
import { resolveRecipient } from "@postline/directory";
import { SmtpReply } from "@postline/smtp";

/**
 * Decides RCPT TO for an MX: mail is accepted only for addresses that lead somewhere in our
 * directory. Returns null to accept, or the refusal:
 *   unknown user in a local domain → 550 5.1.1, non-local domain (relay attempt) → 554 5.7.1,
 *   disabled account → 550 5.2.1, mailbox over quota → 452 4.2.2 (temporary: the user may make room).
 * An alias that fans out is refused for quota only when every local account it reaches is full
 * and it forwards nowhere else; otherwise the full ones are the delivery's business.
 */
export async function checkRecipient(db: Queryable, address: string): Promise<SmtpReply | null> {
  const r = await resolveRecipient(db, address);
  switch (r.kind) {
    case "not-local-domain":
      return new SmtpReply(554, "5.7.1", `<${address}>: Relay access denied`, "relay_denied");
    case "unknown-user":
      return new SmtpReply(550, "5.1.1", `<${address}>: Recipient address rejected: User unknown`, "unknown_user");
    case "disabled":
      return new SmtpReply(550, "5.2.1", `<${address}>: Mailbox disabled, not accepting messages`, "disabled");
    case "invalid-address":
      return new SmtpReply(501, "5.1.3", `<${address}>: Bad recipient address syntax`, "invalid_address");
    case "deliver": {
      if (r.remote.length > 0 || r.accounts.length === 0) return null;
      const ids = r.accounts.map((a) => a.id);
      const full = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM accounts
          WHERE id = ANY($1::bigint[]) AND quota_bytes IS NOT NULL AND used_bytes >= quota_bytes`,
        [ids],
      );
      if ((full.rows[0]?.n ?? 0) === ids.length) {
        return new SmtpReply(452, "4.2.2", `<${address}>: Mailbox full, try again later`, "over_quota");
      }
      return null;
    }
  }
}

/**
 * RCPT decisions that accepted an address, reused for `ttlMs` (0: every RCPT asks the directory).
 * A sender usually delivers many messages to the same few recipients; each check costs several
 * directory queries. Only acceptances are kept: a refusal (unknown user, over quota, disabled) is
 * looked up every time, so an account created or a mailbox emptied is accepted at once, while an
 * account disabled or filled up may still be accepted for up to `ttlMs` (delivery re-resolves every
 * recipient and stores over quota anyway). Concurrent RCPTs for one address share the lookup.
 */
export class RecipientCache {
  private readonly accepted = new Map<string, { expires: number; check: Promise<SmtpReply | null> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  check(db: Queryable, address: string): Promise<SmtpReply | null> {
    if (this.ttlMs <= 0) return checkRecipient(db, address);
    const key = address.toLowerCase();
    const t = this.now();
    const hit = this.accepted.get(key);
    if (hit && hit.expires > t) return hit.check;
    if (hit) this.accepted.delete(key);
    const check = checkRecipient(db, address);
    const entry = { expires: t + this.ttlMs, check };
    this.accepted.set(key, entry);
    if (this.accepted.size > this.maxEntries) this.accepted.delete(this.accepted.keys().next().value!);
    // Refusals and failed lookups are not kept.
    check.then(
      (refusal) => {
        if (refusal && this.accepted.get(key) === entry) this.accepted.delete(key);
      },
      () => {
        if (this.accepted.get(key) === entry) this.accepted.delete(key);
      },
    );
    return check;
  }
}
