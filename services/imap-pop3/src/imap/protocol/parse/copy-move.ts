import type { Command } from "../types.ts";
import type { ParseContext } from "./context.ts";
import type { Reader } from "./reader.ts";
import { sequenceSet } from "./sequence-set.ts";

/** COPY / MOVE SP sequence-set SP mailbox (and the UID forms). */
export function parseCopyMove(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const set = sequenceSet(r);
  r.sp();
  const mailbox = r.astring("a mailbox name");
  return { name: ctx.name as "COPY" | "MOVE", uid: ctx.uid, set, mailbox };
}
