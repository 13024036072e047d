import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";
import { statusItems } from "./status.ts";

type ListCommand = Extract<Command, { name: "LIST" }>;

const SELECTION = new Set(["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]);

/** LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts] (RFC 9051, RFC 5258, RFC 5819). */
export function parseList(r: Reader): Command {
  r.sp();
  const selection: string[] = [];
  if (r.tryChar("(")) {
    if (!r.tryChar(")")) {
      do {
        const option = r.atom("a selection option").toUpperCase();
        if (!SELECTION.has(option)) r.fail(`unknown LIST selection option ${option}`);
        if (!selection.includes(option)) selection.push(option);
      } while (r.trySp());
      r.expectChar(")", `")" closing selection options`);
    }
    r.sp();
  }
  if (selection.includes("RECURSIVEMATCH") && selection.length === 1) r.fail("RECURSIVEMATCH needs another selection option");
  const reference = r.astring("a reference name");
  r.sp();
  const patterns: string[] = [];
  if (r.tryChar("(")) {
    do patterns.push(r.listMailbox());
    while (r.trySp());
    r.expectChar(")", `")" closing the patterns`);
  } else patterns.push(r.listMailbox());
  const returns: ListCommand["returns"] = { subscribed: false, children: false, specialUse: false };
  if (r.trySp()) {
    if (!r.tryKeyword("RETURN")) r.fail("expected RETURN");
    r.sp();
    r.expectChar("(", `"(" after RETURN`);
    if (!r.tryChar(")")) {
      do {
        const option = r.atom("a return option").toUpperCase();
        if (option === "SUBSCRIBED") returns.subscribed = true;
        else if (option === "CHILDREN") returns.children = true;
        else if (option === "SPECIAL-USE") returns.specialUse = true;
        else if (option === "STATUS") {
          r.sp();
          returns.status = statusItems(r);
        } else r.fail(`unknown LIST return option ${option}`);
      } while (r.trySp());
      r.expectChar(")", `")" closing return options`);
    }
  }
  return { name: "LIST", reference, patterns, selection, returns };
}

/** LSUB SP mailbox SP list-mailbox. */
export function parseLsub(r: Reader): Command {
  r.sp();
  const reference = r.astring("a reference name");
  r.sp();
  return { name: "LSUB", reference, pattern: r.listMailbox() };
}
