import type { Command } from "../types.ts";
import type { ParseContext } from "./context.ts";
import type { Reader } from "./reader.ts";
import { sequenceSet } from "./sequence-set.ts";

type Qresync = NonNullable<Extract<Command, { name: "SELECT" | "EXAMINE" }>["qresync"]>;

/** QRESYNC SP "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")" (RFC 7162 3.2.5). */
function qresyncParams(r: Reader): Qresync {
  r.expectChar("(", `"(" after QRESYNC`);
  const uidValidity = r.nzNumber("a UIDVALIDITY");
  r.sp();
  const modseq = r.modseq();
  const q: Qresync = { uidValidity, modseq };
  if (r.trySp()) {
    if (r.peek() !== 0x28) {
      q.knownUids = sequenceSet(r);
      if (q.knownUids.kind === "saved") r.fail("$ is not allowed in QRESYNC");
      if (!r.trySp()) {
        r.expectChar(")", `")" closing QRESYNC`);
        return q;
      }
    }
    r.expectChar("(", "a sequence match list");
    const seqs = sequenceSet(r);
    r.sp();
    const uids = sequenceSet(r);
    r.expectChar(")", `")" closing the sequence match list`);
    q.seqMatch = { seqs, uids };
  }
  r.expectChar(")", `")" closing QRESYNC`);
  return q;
}

/** SELECT / EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"]. */
export function parseSelect(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const mailbox = r.astring("a mailbox name");
  let condstore = false;
  let qresync: Qresync | undefined;
  if (r.trySp()) {
    r.expectChar("(", "select parameters");
    if (!r.tryChar(")")) {
      do {
        const param = r.atom("a select parameter").toUpperCase();
        if (param === "CONDSTORE") condstore = true;
        else if (param === "QRESYNC") {
          r.sp();
          qresync = qresyncParams(r);
        } else r.fail(`unknown select parameter ${param}`);
      } while (r.trySp());
      r.expectChar(")", `")" closing select parameters`);
    }
  }
  const command: Command = { name: ctx.name as "SELECT" | "EXAMINE", mailbox, condstore };
  if (qresync) command.qresync = qresync;
  return command;
}
