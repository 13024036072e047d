import type { Op, SessionContext, TaggedResult } from "../core/op.ts";
import { nameOrBad } from "../core/mailbox-names.ts";

/**
 * SUBSCRIBE / UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8). The subscription is the mailbox's `subscribed`
 * column: subscribing to a mailbox that does not exist is refused with NO [NONEXISTENT] (RFC 9051
 * allows either), and a deleted mailbox takes its subscription with it, so LIST never has a
 * subscribed-but-gone (\NonExistent \Subscribed) name to report.
 */
async function setSubscribed(ctx: SessionContext, wire: string, subscribed: boolean): Promise<TaggedResult> {
  const n = nameOrBad(ctx, wire);
  if ("bad" in n) return n.bad;
  const r = await ctx.db.query("UPDATE mailboxes SET subscribed = $3 WHERE account_id = $1 AND name = $2", [ctx.account!.id, n.name, subscribed]);
  if (r.rowCount === 0) return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
  return { status: "OK", text: `${subscribed ? "SUBSCRIBE" : "UNSUBSCRIBE"} completed` };
}

export const subscribeOp: Op<"SUBSCRIBE"> = (ctx, command) => setSubscribed(ctx, command.mailbox, true);
export const unsubscribeOp: Op<"UNSUBSCRIBE"> = (ctx, command) => setSubscribed(ctx, command.mailbox, false);
