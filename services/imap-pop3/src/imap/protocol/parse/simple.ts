import type { Command } from "../types.ts";
import type { ParseContext } from "./context.ts";
import type { Reader } from "./reader.ts";
import { sequenceSet } from "./sequence-set.ts";

/** Commands without arguments: CAPABILITY NOOP LOGOUT STARTTLS CHECK CLOSE UNSELECT NAMESPACE IDLE. */
export function parseNoArguments(_r: Reader, ctx: ParseContext): Command {
  return { name: ctx.name } as Command;
}

/** EXPUNGE, and UID EXPUNGE sequence-set (RFC 4315). */
export function parseExpunge(r: Reader, ctx: ParseContext): Command {
  if (!ctx.uid) return { name: "EXPUNGE" };
  r.sp();
  return { name: "EXPUNGE", uids: sequenceSet(r) };
}
