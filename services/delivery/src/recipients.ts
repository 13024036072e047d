import type { Queryable } from "@postline/db";
import { resolveRecipient, type ResolvedAccount } from "@postline/directory";
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

export async function planRecipients(db: Queryable, event: MailClassified): Promise<RecipientPlan> {
  const local = new Map<number, ResolvedAccount>();
  const remote = new Set<string>();
  const failed: RecipientPlan["failed"] = [];
  for (const rcpt of event.envelope.rcptTo) {
    const r = await resolveRecipient(db, rcpt);
    switch (r.kind) {
      case "deliver":
        for (const a of r.accounts) if (!local.has(a.id)) local.set(a.id, a);
        for (const address of r.remote) remote.add(address);
        break;
      case "not-local-domain":
        // Submitted mail goes out; inbound mail for a domain removed since RCPT is not relayed.
        if (event.source === "submission") remote.add(rcpt.toLowerCase());
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
