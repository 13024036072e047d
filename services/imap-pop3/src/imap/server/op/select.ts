/**
 * SELECT and EXAMINE (RFC 9051 6.3.2/6.3.3, RFC 7162 CONDSTORE and QRESYNC parameters).
 *
 * A selected mailbox is closed first (`* OK [CLOSED]`), even when the new SELECT fails. The view is
 * loaded in one statement. \Recent is per session (see core/mailbox-view.ts): `* 0 RECENT` for rev1.
 * QRESYNC: when the client's UIDVALIDITY matches, `* VANISHED (EARLIER)` lists the tombstones newer
 * than its modseq (limited to its known UIDs), then `* n FETCH (UID FLAGS MODSEQ)` for every message
 * changed since. Tombstones are never pruned by us, so the sequence-match data is not needed and
 * is ignored.
 */
import { compactSet, flagList } from "../../protocol/encode.ts";
import { InvalidMailboxName, mailboxFromWire } from "../core/mailbox-names.ts";
import { MailboxView } from "../core/mailbox-view.ts";
import { hasFlag, vanishedSince } from "../core/messages.ts";
import type { Op, ResponseSink, SessionContext, TaggedResult } from "../core/op.ts";
import type { Command } from "../../protocol/types.ts";
import { deselect } from "./close.ts";

const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];

const select: Op<"SELECT" | "EXAMINE"> = async (ctx, command, out) => {
  if (!ctx.account || (ctx.state !== "authenticated" && ctx.state !== "selected")) return { status: "BAD", text: "not authenticated" };
  if (command.qresync && !ctx.enabled.has("QRESYNC")) return { status: "BAD", text: "QRESYNC parameter needs ENABLE QRESYNC" };
  if (ctx.selected) {
    deselect(ctx);
    out.write("* OK [CLOSED] previous mailbox closed\r\n");
  }
  ctx.savedSearch = [];
  let name: string;
  try {
    name = mailboxFromWire(ctx, command.mailbox);
  } catch (err) {
    if (err instanceof InvalidMailboxName) return { status: "BAD", text: err.message };
    throw err;
  }
  const readOnly = command.name === "EXAMINE";
  const view = await MailboxView.open(ctx, name, { readOnly });
  if (!view) return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
  if (command.condstore) ctx.enabled.add("CONDSTORE");
  const condstore = ctx.enabled.has("CONDSTORE") || ctx.enabled.has("QRESYNC");
  const rev2 = ctx.enabled.has("IMAP4REV2");

  let text = `* ${view.exists} EXISTS\r\n`;
  if (!rev2) text += "* 0 RECENT\r\n";
  text += `* FLAGS ${flagList(SYSTEM_FLAGS)}\r\n`;
  text += `* OK [PERMANENTFLAGS ${readOnly ? "()" : flagList([...SYSTEM_FLAGS, "\\*"])}] flags permitted\r\n`;
  if (!rev2) {
    const firstUnseen = view.allUids().findIndex((u) => !hasFlag(view.entry(u)!.flags, "\\Seen"));
    if (firstUnseen >= 0) text += `* OK [UNSEEN ${firstUnseen + 1}] first unseen\r\n`;
  }
  text += `* OK [UIDVALIDITY ${view.uidValidity}] UIDs valid\r\n`;
  text += `* OK [UIDNEXT ${view.uidNextAtLoad}] predicted next UID\r\n`;
  text += condstore ? `* OK [HIGHESTMODSEQ ${view.highestModseq}] highest modseq\r\n` : "";
  out.write(text);

  const q = command.qresync;
  if (q && q.uidValidity === view.uidValidity) {
    const known = q.knownUids;
    const gone = (await vanishedSince(ctx.db, view.mailboxId, q.modseq)).filter((u) => view.seqOf(u) === undefined && (!known || view.inUidSet(known, u)));
    let resync = gone.length > 0 ? `* VANISHED (EARLIER) ${compactSet(gone)}\r\n` : "";
    for (const uid of view.allUids()) {
      const e = view.entry(uid)!;
      if (e.modseq > q.modseq) resync += `* ${view.seqOf(uid)} FETCH (UID ${uid} FLAGS ${flagList(e.flags)} MODSEQ (${e.modseq}))\r\n`;
    }
    if (resync) out.write(resync);
  }

  ctx.selected = view;
  ctx.state = "selected";
  return readOnly ? { status: "OK", code: "READ-ONLY", text: "EXAMINE completed" } : { status: "OK", code: "READ-WRITE", text: "SELECT completed" };
};

/** SELECT and EXAMINE share one op; typed as a plain function so it is both an Op<"SELECT"> and an Op<"EXAMINE">. */
export const selectOp = (ctx: SessionContext, command: Extract<Command, { name: "SELECT" | "EXAMINE" }>, out: ResponseSink): Promise<TaggedResult> =>
  select(ctx, command, out);
