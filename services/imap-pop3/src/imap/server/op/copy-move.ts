/**
 * COPY and MOVE (RFC 9051 6.4.7/6.4.8, RFC 6851, UIDPLUS COPYUID).
 *
 * One transaction: both mailbox rows are locked in id order (two opposite MOVEs cannot deadlock),
 * the quota is checked, each message is appended with libs/mailstore appendMessageTx (same blob: one
 * more reference; cached envelope, structure and search columns copied) and, for MOVE, the sources
 * are removed with removeMessagesTx (tombstones for QRESYNC). Only after the commit are the
 * responses written: COPY `OK [COPYUID v src dst]`; MOVE `* OK [COPYUID ...]` then EXPUNGE (or
 * VANISHED). A copy does not take the message's mail id (the store allows one per mailbox and a copy
 * is a new message); a move keeps it, and the announced changes carry it for spam learning.
 */
import type { Queryable } from "@postline/db";
import { appendMessageTx, contentOf, removeMessagesTx } from "@postline/mailstore";
import { compactSet } from "../../protocol/encode.ts";
import { InvalidMailboxName, mailboxFromWire } from "../core/mailbox-names.ts";
import { INVALID_SEQUENCE, NOT_SELECTED, resolveForOp, selectedView } from "../core/mailbox-view.ts";
import type { MailboxChange, ResponseSink, SessionContext, TaggedResult } from "../core/op.ts";
import type { Command } from "../../protocol/types.ts";

interface SourceRow {
  uid: number;
  flags: string[];
  internal_date: Date;
  size: number;
  blob_hash: string;
  header_prefix: Uint8Array | null;
  mail_id: string | null;
  envelope: unknown;
  bodystructure: unknown;
  subject: string | null;
  from_addr: string | null;
  to_addr: string | null;
  cc_addr: string | null;
  bcc_addr: string | null;
  sent_date: Date | null;
  header_message_id: string | null;
}

class Refusal extends Error {
  constructor(readonly result: TaggedResult) {
    super(result.text);
  }
}

type CopyCommand = Extract<Command, { name: "COPY" | "MOVE" }>;

/** COPY and MOVE share one request shape; plain function types, so each is an Op<"COPY"> and an Op<"MOVE">. */
export const copyOp = (ctx: SessionContext, command: CopyCommand, out: ResponseSink): Promise<TaggedResult> => copyOrMove(ctx, command, out, false);
export const moveOp = (ctx: SessionContext, command: CopyCommand, out: ResponseSink): Promise<TaggedResult> => copyOrMove(ctx, command, out, true);

const copyOrMove = async (ctx: SessionContext, command: CopyCommand, out: ResponseSink, move: boolean): Promise<TaggedResult> => {
  const view = selectedView(ctx);
  if (!view) return NOT_SELECTED;
  if (move && view.readOnly) return { status: "NO", text: "mailbox is read-only" };
  const resolved = resolveForOp(view, command.set, command.uid);
  if (!resolved) return INVALID_SEQUENCE;
  const uids = resolved.filter((u) => !view.isPendingExpunge(u));
  if (command.uid) view.usedUid = true;
  let name: string;
  try {
    name = mailboxFromWire(ctx, command.mailbox);
  } catch (err) {
    if (err instanceof InvalidMailboxName) return { status: "BAD", text: err.message };
    throw err;
  }
  const dest = await ctx.db.query<{ id: number; uidvalidity: number }>(
    `SELECT id, uidvalidity FROM mailboxes WHERE account_id = $1 AND (CASE WHEN $3::boolean THEN upper(name) = 'INBOX' ELSE name = $2 END) LIMIT 1`,
    [view.accountId, name, name.toUpperCase() === "INBOX"],
  );
  const target = dest.rows[0];
  if (!target) return { status: "NO", code: "TRYCREATE", text: "no such mailbox" };
  const targetId = Number(target.id);
  if (move && targetId === view.mailboxId) return { status: "NO", text: "cannot move into the same mailbox" };
  if (uids.length === 0) return { status: "OK", text: `${move ? "MOVE" : "COPY"} completed (nothing to do)` };

  let result: { pairs: Array<{ src: number; dst: number; modseq: number; mailId: string | null }>; expungeModseq: number };
  try {
    result = await ctx.db.transaction(async (tx) => {
      await tx.query("SELECT id FROM mailboxes WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE", [[view.mailboxId, targetId]]);
      const r = await tx.query<SourceRow>(
        `SELECT uid, flags, internal_date, size, blob_hash, header_prefix, mail_id, envelope, bodystructure,
                subject, from_addr, to_addr, cc_addr, bcc_addr, sent_date, header_message_id
           FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid`,
        [view.mailboxId, uids],
      );
      if (!move) await checkQuota(tx, view.accountId, r.rows.reduce((s, x) => s + Number(x.size), 0));
      const pairs: Array<{ src: number; dst: number; modseq: number; mailId: string | null }> = [];
      for (const row of r.rows) {
        const appended = await appendMessageTx(tx, {
          accountId: view.accountId,
          mailboxId: targetId,
          blob: { key: row.blob_hash, size: Number(row.size), prefix: contentOf(row.blob_hash, row.header_prefix).prefix },
          flags: row.flags,
          internalDate: row.internal_date,
          structure: {
            envelope: row.envelope,
            body: row.bodystructure,
            search: {
              subject: row.subject,
              from: row.from_addr,
              to: row.to_addr,
              cc: row.cc_addr,
              bcc: row.bcc_addr,
              date: row.sent_date,
              messageId: row.header_message_id,
            },
          },
          ...(move && row.mail_id ? { mailId: row.mail_id } : {}),
        });
        pairs.push({ src: Number(row.uid), dst: appended.uid, modseq: appended.modseq, mailId: row.mail_id });
      }
      let expungeModseq = 0;
      if (move && pairs.length > 0) {
        const removed = await removeMessagesTx(tx, { accountId: view.accountId, mailboxId: view.mailboxId, uids: pairs.map((p) => p.src) });
        expungeModseq = removed.modseq;
      }
      return { pairs, expungeModseq };
    });
  } catch (err) {
    if (err instanceof Refusal) return err.result;
    throw err;
  }

  const { pairs } = result;
  if (pairs.length === 0) return { status: "OK", text: `${move ? "MOVE" : "COPY"} completed (nothing to do)` };
  const copyUid = `COPYUID ${Number(target.uidvalidity)} ${compactSet(pairs.map((p) => p.src))} ${compactSet(pairs.map((p) => p.dst))}`;
  const changes: MailboxChange[] = pairs.map((p) => ({
    accountId: view.accountId,
    mailboxId: targetId,
    uid: p.dst,
    modseq: p.modseq,
    kind: "append",
    ...(p.mailId ? { mailId: p.mailId } : {}),
    sourceMailboxId: view.mailboxId,
  }));
  if (move) {
    out.write(`* OK [${copyUid}] moved\r\n`);
    view.writeExpunged(
      out,
      pairs.map((p) => p.src),
    );
    for (const p of pairs) {
      changes.push({
        accountId: view.accountId,
        mailboxId: view.mailboxId,
        uid: p.src,
        modseq: result.expungeModseq,
        kind: "expunge",
        ...(p.mailId ? { mailId: p.mailId } : {}),
      });
    }
  }
  await ctx.notifier.announce(changes);
  return move ? { status: "OK", text: "MOVE completed" } : { status: "OK", code: copyUid, text: "COPY completed" };
};

async function checkQuota(tx: Queryable, accountId: number, bytes: number): Promise<void> {
  const r = await tx.query<{ over: boolean }>(
    "SELECT quota_bytes IS NOT NULL AND used_bytes + $2 > quota_bytes AS over FROM accounts WHERE id = $1",
    [accountId, bytes],
  );
  if (r.rows[0]?.over) throw new Refusal({ status: "NO", code: "OVERQUOTA", text: "quota exceeded" });
}
