import type { Command } from "../types.ts";
import type { ParseContext } from "./context.ts";
import { storeFlags } from "./flags.ts";
import type { Reader } from "./reader.ts";
import { sequenceSet } from "./sequence-set.ts";

/** STORE SP sequence-set [SP "(" UNCHANGEDSINCE SP mod-sequence-valzer ")"] SP (["+"/"-"] "FLAGS" [".SILENT"]) SP flags. */
export function parseStore(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const set = sequenceSet(r);
  r.sp();
  let unchangedSince: number | undefined;
  if (r.tryChar("(")) {
    do {
      const modifier = r.atom("a store modifier").toUpperCase();
      if (modifier !== "UNCHANGEDSINCE") r.fail(`unknown store modifier ${modifier}`);
      r.sp();
      unchangedSince = r.modseq(true);
    } while (r.trySp());
    r.expectChar(")", `")" closing store modifiers`);
    r.sp();
  }
  const action = r.tryChar("+") ? "add" : r.tryChar("-") ? "remove" : "set";
  const item = r.atom("FLAGS").toUpperCase();
  if (item !== "FLAGS" && item !== "FLAGS.SILENT") r.fail(`unknown store item ${item}`);
  r.sp();
  const flags = storeFlags(r);
  const command: Command = { name: "STORE", uid: ctx.uid, set, action, silent: item === "FLAGS.SILENT", flags };
  if (unchangedSince !== undefined) command.unchangedSince = unchangedSince;
  return command;
}
