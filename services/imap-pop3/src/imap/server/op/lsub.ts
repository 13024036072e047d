import type { Op } from "../core/op.ts";
import { DELIMITER, mailboxToWire } from "../core/mailbox-names.ts";
import { listEntries, patternsOf } from "./list.ts";

/**
 * LSUB (RFC 3501 6.3.9, rev1): the subscribed mailboxes matching the pattern. A name that `%`
 * matches but is not subscribed itself, while something below it is, is returned \Noselect.
 */
export const lsubOp: Op<"LSUB"> = async (ctx, command, out) => {
  if (command.pattern === "") {
    out.write(`* LSUB (\\Noselect) "${DELIMITER}" ""\r\n`);
    return { status: "OK", text: "LSUB completed" };
  }
  const regexes = patternsOf(ctx, command.reference, [command.pattern]);
  if (!regexes) return { status: "BAD", text: "mailbox name is not valid modified UTF-7" };
  const percent = command.pattern.includes("%");
  for (const e of await listEntries(ctx)) {
    if (!regexes[0]!.test(e.name)) continue;
    if (e.row?.subscribed) {
      const attrs = [e.hasChildren ? "\\HasChildren" : "\\HasNoChildren"];
      if (e.row.specialUse) attrs.push(e.row.specialUse);
      out.write(`* LSUB (${attrs.join(" ")}) "${DELIMITER}" ${mailboxToWire(ctx, e.name)}\r\n`);
    } else if (percent && e.subscribedChild) {
      out.write(`* LSUB (\\Noselect) "${DELIMITER}" ${mailboxToWire(ctx, e.name)}\r\n`);
    }
  }
  return { status: "OK", text: "LSUB completed" };
};
