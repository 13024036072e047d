import type { Op } from "../core/op.ts";
import { nameOrBad } from "../core/mailbox-names.ts";
import { findMailboxRow, statusLine } from "../core/mailboxes.ts";

/** STATUS (RFC 9051 6.3.11) with STATUS=SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162) and APPENDLIMIT (RFC 7889). */
export const statusOp: Op<"STATUS"> = async (ctx, command, out) => {
  const n = nameOrBad(ctx, command.mailbox);
  if ("bad" in n) return n.bad;
  const mailbox = await findMailboxRow(ctx.db, ctx.account!.id, n.name);
  if (!mailbox) return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
  // STATUS HIGHESTMODSEQ is a CONDSTORE enabling command (RFC 7162 3.1).
  if (command.items.includes("HIGHESTMODSEQ")) ctx.enabled.add("CONDSTORE");
  out.write(await statusLine(ctx, mailbox, command.items));
  return { status: "OK", text: "STATUS completed" };
};
