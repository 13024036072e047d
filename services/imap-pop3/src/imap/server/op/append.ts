import { BlobTooLargeError } from "@postline/blobstore";
import { MailboxNotFound, appendMessage } from "@postline/mailstore";
import { parseMessageBuffer } from "@postline/mime";
import type { MailboxChange, Op } from "../core/op.ts";
import { compactSet } from "../../protocol/encode.ts";
import { nameOrBad } from "../core/mailbox-names.ts";
import { findMailboxRow } from "../core/mailboxes.ts";

const SYSTEM_FLAGS = new Map(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((f) => [f.toUpperCase(), f]));

/** Flags as stored: system flags in their canonical case, \Recent dropped (the server sets it, RFC 3501), no duplicates. */
export function storedFlags(flags: string[]): string[] {
  const out = new Set<string>();
  for (const f of flags) {
    if (f.startsWith("\\")) {
      const system = SYSTEM_FLAGS.get(f.toUpperCase());
      if (system) out.add(system);
    } else out.add(f);
  }
  return [...out];
}

/**
 * APPEND (RFC 9051 6.3.12) with UIDPLUS's APPENDUID (RFC 4315), APPENDLIMIT (RFC 7889) and QUOTA
 * (RFC 9208): the message is parsed (envelope, body structure with offsets, search fields), put in
 * the blob store, and appended with the mailstore's appendMessage, which commits the UID, the blob
 * reference and the quota usage together before the OK. Other sessions are told through the notifier.
 */
export const appendOp: Op<"APPEND"> = async (ctx, command) => {
  const n = nameOrBad(ctx, command.mailbox);
  if ("bad" in n) return n.bad;
  const accountId = ctx.account!.id;
  const mailbox = await findMailboxRow(ctx.db, accountId, n.name);
  if (!mailbox) return { status: "NO", code: "TRYCREATE", text: "no such mailbox" };

  const total = command.messages.reduce((sum, m) => sum + m.content.length, 0);
  for (const m of command.messages) {
    if (m.content.length > ctx.settings.appendLimit) return { status: "NO", code: "TOOBIG", text: `message exceeds APPENDLIMIT=${ctx.settings.appendLimit}` };
    if (m.content.length === 0) return { status: "NO", text: "empty message" };
  }
  const quota = await ctx.db.query<{ over: boolean }>(
    "SELECT quota_bytes IS NOT NULL AND used_bytes + $2 > quota_bytes AS over FROM accounts WHERE id = $1",
    [accountId, total],
  );
  if (quota.rows[0]?.over) return { status: "NO", code: "OVERQUOTA", text: "mailbox quota exceeded" };

  const changes: MailboxChange[] = [];
  try {
    for (const m of command.messages) {
      const structure = parseMessageBuffer(m.content);
      const put = () => ctx.blobs.put(m.content, { maxBytes: ctx.settings.appendLimit });
      const ref = await put();
      const r = await appendMessage(ctx.db, {
        accountId,
        mailboxId: mailbox.id,
        blob: { key: ref.key, size: ref.size },
        flags: storedFlags(m.flags),
        internalDate: m.date ?? new Date(),
        structure,
      });
      // A blob the collector deleted (after our put, perhaps) referenced again: make sure it is stored.
      if (r.blobCollected && !(await ctx.blobs.stat(ref.key))) await put();
      changes.push({ accountId, mailboxId: mailbox.id, uid: r.uid, modseq: r.modseq, kind: "append" });
    }
  } catch (err) {
    if (err instanceof MailboxNotFound) return { status: "NO", code: "TRYCREATE", text: "mailbox was deleted" };
    if (err instanceof BlobTooLargeError) return { status: "NO", code: "TOOBIG", text: "message too large" };
    throw err;
  } finally {
    if (changes.length > 0) await ctx.notifier.announce(changes);
  }
  return { status: "OK", code: `APPENDUID ${mailbox.uidValidity} ${compactSet(changes.map((c) => c.uid))}`, text: "APPEND completed" };
};
