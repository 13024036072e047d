import type { Command } from "../types.ts";
import type { ParseContext } from "./context.ts";
import { flag } from "./flags.ts";
import type { Reader } from "./reader.ts";

const SPECIAL_USE = new Map(["\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash"].map((a) => [a.toUpperCase(), a]));

/** CREATE SP mailbox [SP "(" "USE" SP "(" use-attr *(SP use-attr) ")" ")"] (RFC 6154). */
export function parseCreate(r: Reader): Command {
  r.sp();
  const mailbox = r.astring("a mailbox name");
  if (!r.trySp()) return { name: "CREATE", mailbox };
  r.expectChar("(", "create parameters");
  const specialUse: string[] = [];
  if (!r.tryChar(")")) {
    do {
      const param = r.atom("a create parameter").toUpperCase();
      if (param !== "USE") r.fail(`unknown create parameter ${param}`);
      r.sp();
      r.expectChar("(", `"(" after USE`);
      do {
        if (r.peek() !== 0x5c) r.fail("expected a special-use attribute");
        const given = flag(r, true);
        const attr = SPECIAL_USE.get(given.toUpperCase()) ?? given;
        if (!specialUse.includes(attr)) specialUse.push(attr);
      } while (r.trySp());
      r.expectChar(")", `")" closing USE`);
    } while (r.trySp());
    r.expectChar(")", `")" closing create parameters`);
  }
  return { name: "CREATE", mailbox, specialUse };
}

/** DELETE / SUBSCRIBE / UNSUBSCRIBE SP mailbox. */
export function parseOneMailbox(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const mailbox = r.astring("a mailbox name");
  return { name: ctx.name as "DELETE" | "SUBSCRIBE" | "UNSUBSCRIBE", mailbox };
}

/** RENAME SP mailbox SP mailbox. */
export function parseRename(r: Reader): Command {
  r.sp();
  const from = r.astring("a mailbox name");
  r.sp();
  const to = r.astring("a mailbox name");
  return { name: "RENAME", from, to };
}
