import type { Queryable } from "@postline/db";
import { resolveRecipient } from "@postline/directory";
import { SmtpReply } from "./reply.ts";

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
