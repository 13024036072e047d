import { removeMessagesTx } from "@postline/mailstore";
import type { Op } from "../core/op.ts";
import { nameOrBad } from "../core/mailbox-names.ts";
import { findMailboxRow } from "../core/mailboxes.ts";

/**
 * DELETE (RFC 9051 6.3.5). INBOX cannot be deleted. A mailbox with child mailboxes is refused with
 * NO [HASCHILDREN] (RFC 5530) instead of RFC 3501's "remove the messages and keep it \Noselect":
 * the store has no \Noselect mailboxes, and a client deletes the children first.
 *
 * The messages go through the mailstore's removeMessagesTx (blob references and quota usage stay
 * right) in the same transaction as the mailbox row; sessions of other processes that have it
 * selected learn of it through `mailbox.changed`.
 */
export const deleteOp: Op<"DELETE"> = async (ctx, command, out) => {
  const n = nameOrBad(ctx, command.mailbox);
  if ("bad" in n) return n.bad;
  const name = n.name;
  if (name === "INBOX") return { status: "NO", code: "CANNOT", text: "INBOX cannot be deleted" };
  const accountId = ctx.account!.id;

  const result = await ctx.db.transaction(async (tx) => {
    await tx.query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [accountId]);
    const mailbox = await findMailboxRow(tx, accountId, name, true);
    if (!mailbox) return { outcome: "nonexistent" as const };
    const children = await tx.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND left(name, $3) = $2 LIMIT 1", [accountId, `${name}/`, name.length + 1]);
    if (children.rows.length > 0) return { outcome: "children" as const };
    const uids = await tx.query<{ uid: string }>("SELECT uid FROM messages WHERE mailbox_id = $1", [mailbox.id]);
    const removed = await removeMessagesTx(tx, { accountId, mailboxId: mailbox.id, uids: uids.rows.map((r) => Number(r.uid)) });
    await tx.query("DELETE FROM mailboxes WHERE id = $1 AND account_id = $2", [mailbox.id, accountId]);
    const last = removed.expunged.at(-1);
    return { outcome: "deleted" as const, mailboxId: mailbox.id, last: last ? { uid: last.uid, modseq: removed.modseq } : undefined };
  });
  if (result.outcome === "nonexistent") return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
  if (result.outcome === "children") return { status: "NO", code: "HASCHILDREN", text: "mailbox has child mailboxes; delete them first" };

  if (ctx.selected?.mailboxId === result.mailboxId) {
    ctx.selected.close();
    ctx.selected = undefined;
    ctx.state = "authenticated";
    out.write("* OK [CLOSED] the selected mailbox was deleted\r\n");
  }
  if (result.last) {
    await ctx.notifier.announce([{ accountId, mailboxId: result.mailboxId, uid: result.last.uid, modseq: result.last.modseq, kind: "expunge" }]);
  }
  return { status: "OK", text: "DELETE completed" };
};
