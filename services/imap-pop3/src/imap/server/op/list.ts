import type { Op, SessionContext, TaggedResult } from "../core/op.ts";
import { decodeMailboxName } from "../../protocol/mailbox-name.ts";
import { DELIMITER, mailboxToWire, parentsOf, patternRegex, utf8Names } from "../core/mailbox-names.ts";
import { listMailboxRows, statusLine, type MailboxRow } from "../core/mailboxes.ts";

/** One name the LIST family may return: a mailbox, or a parent implied by a mailbox's name (`a` of `a/b`). */
export interface ListEntry {
  name: string;
  row?: MailboxRow;
  hasChildren: boolean;
  /** Some descendant is subscribed. */
  subscribedChild: boolean;
}

/** The account's mailboxes and the parents their names imply, INBOX first, then by name. */
export async function listEntries(ctx: SessionContext): Promise<ListEntry[]> {
  const rows = await listMailboxRows(ctx.db, ctx.account!.id);
  const entries = new Map<string, ListEntry>();
  for (const row of rows) entries.set(row.name, { name: row.name, row, hasChildren: false, subscribedChild: false });
  for (const row of rows) {
    for (const parent of parentsOf(row.name)) {
      let e = entries.get(parent);
      if (!e) entries.set(parent, (e = { name: parent, hasChildren: false, subscribedChild: false }));
      e.hasChildren = true;
      if (row.subscribed) e.subscribedChild = true;
    }
  }
  return [...entries.values()].sort((a, b) => (a.name === "INBOX" ? -1 : b.name === "INBOX" ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Reference and patterns (wire form) → regular expressions over stored names; null when a name is not valid mUTF-7. */
export function patternsOf(ctx: SessionContext, reference: string, patterns: string[]): RegExp[] | null {
  try {
    const utf8 = utf8Names(ctx);
    const ref = decodeMailboxName(reference, utf8);
    return patterns.map((p) => patternRegex(ref + decodeMailboxName(p, utf8)));
  } catch {
    return null;
  }
}

/**
 * LIST (RFC 9051 6.3.9) with LIST-EXTENDED (RFC 5258: selection SUBSCRIBED, SPECIAL-USE,
 * RECURSIVEMATCH; return SUBSCRIBED, CHILDREN, SPECIAL-USE), LIST-STATUS (RFC 5819) and
 * SPECIAL-USE (RFC 6154). \HasChildren/\HasNoChildren and the special-use attributes are always
 * returned (cheap, and what clients look for); a parent implied by a child's name is \Noselect.
 */
export const listOp: Op<"LIST"> = async (ctx, command, out): Promise<TaggedResult> => {
  const selection = new Set(command.selection.map((s) => s.toUpperCase()));
  if (selection.has("RECURSIVEMATCH") && !selection.has("SUBSCRIBED") && !selection.has("SPECIAL-USE")) {
    return { status: "BAD", text: "RECURSIVEMATCH needs another selection option" };
  }
  const isExtended = selection.size > 0 || command.patterns.length !== 1 || command.returns.subscribed || command.returns.children || command.returns.specialUse || command.returns.status !== undefined;
  if (!isExtended && command.patterns[0] === "") {
    // The hierarchy delimiter and the root of the reference (RFC 9051 6.3.9).
    out.write(`* LIST (\\Noselect) "${DELIMITER}" ""\r\n`);
    return { status: "OK", text: "LIST completed" };
  }
  const regexes = patternsOf(ctx, command.reference, command.patterns);
  if (!regexes) return { status: "BAD", text: "mailbox name is not valid modified UTF-7" };

  const bySubscription = selection.has("SUBSCRIBED");
  const bySpecialUse = selection.has("SPECIAL-USE");
  const recursive = selection.has("RECURSIVEMATCH");
  const showSubscribed = bySubscription || command.returns.subscribed;

  for (const e of await listEntries(ctx)) {
    if (!regexes.some((r) => r.test(e.name))) continue;
    const childInfo = recursive && bySubscription && e.subscribedChild && !e.row?.subscribed;
    if (bySubscription && !e.row?.subscribed && !childInfo) continue;
    if (bySpecialUse && !e.row?.specialUse && !(recursive && e.hasChildren)) continue;
    const attrs: string[] = [];
    if (!e.row) attrs.push(bySubscription ? "\\NonExistent" : "\\Noselect");
    attrs.push(e.hasChildren ? "\\HasChildren" : "\\HasNoChildren");
    if (showSubscribed && e.row?.subscribed) attrs.push("\\Subscribed");
    if (e.row?.specialUse) attrs.push(e.row.specialUse);
    const extended = childInfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : "";
    out.write(`* LIST (${attrs.join(" ")}) "${DELIMITER}" ${mailboxToWire(ctx, e.name)}${extended}\r\n`);
    if (command.returns.status && command.returns.status.length > 0 && e.row) {
      out.write(await statusLine(ctx, e.row, command.returns.status));
    }
  }
  return { status: "OK", text: "LIST completed" };
};
