import type { Queryable } from "@postline/db";
import type { Op, TaggedResult } from "../core/op.ts";
import { nameOrBad, parentsOf, validateNewName } from "../core/mailbox-names.ts";
import { findMailboxRow, nextUidValidity, type MailboxRow } from "../core/mailboxes.ts";

/**
 * RENAME (RFC 9051 6.3.6). Child mailboxes move with their parent (`a` → `b` renames `a/x` to
 * `b/x`); missing parents of the new name are created; mailbox ids, UIDVALIDITY and messages stay.
 *
 * RENAME INBOX moves INBOX's messages into a new mailbox of that name (with a new UIDVALIDITY, UIDs
 * kept) and leaves INBOX empty; INBOX's children are not renamed. The messages are moved by
 * re-pointing their rows, so blob references and quota usage do not change; INBOX records them as
 * expunged for QRESYNC.
 */
export const renameOp: Op<"RENAME"> = async (ctx, command) => {
  const f = nameOrBad(ctx, command.from);
  if ("bad" in f) return f.bad;
  const t = nameOrBad(ctx, command.to);
  if ("bad" in t) return t.bad;
  const from = f.name;
  const to = t.name;
  if (to === "INBOX") return { status: "NO", code: "ALREADYEXISTS", text: "INBOX always exists" };
  const invalid = validateNewName(to);
  if (invalid) return { status: "NO", code: "CANNOT", text: invalid };
  if (from !== "INBOX" && (to === from || to.startsWith(`${from}/`))) return { status: "NO", code: "CANNOT", text: "a mailbox cannot be moved into itself" };
  const accountId = ctx.account!.id;

  const outcome = await ctx.db.transaction(async (tx): Promise<TaggedResult | { inbox: { mailboxId: number; uid: number; modseq: number } | null }> => {
    await tx.query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE", [accountId]);
    const source = await findMailboxRow(tx, accountId, from, true);
    if (!source) return { status: "NO", code: "NONEXISTENT", text: "no such mailbox" };
    if (await findMailboxRow(tx, accountId, to)) return { status: "NO", code: "ALREADYEXISTS", text: "a mailbox with the new name exists" };
    if (from === "INBOX") return { inbox: await renameInbox(tx, accountId, source, to) };

    const moving = await tx.query<{ id: string; name: string }>(
      "SELECT id, name FROM mailboxes WHERE account_id = $1 AND (name = $2 OR left(name, $3) = $4)",
      [accountId, from, from.length + 1, `${from}/`],
    );
    const renamed = moving.rows.map((r) => ({ id: Number(r.id), name: to + r.name.slice(from.length) }));
    const clash = await tx.query("SELECT 1 FROM mailboxes WHERE account_id = $1 AND name = ANY($2::text[]) AND NOT (id = ANY($3::bigint[])) LIMIT 1", [
      accountId,
      renamed.map((r) => r.name),
      renamed.map((r) => r.id),
    ]);
    if (clash.rows.length > 0) return { status: "NO", code: "ALREADYEXISTS", text: "a child mailbox would clash with an existing one" };
    // Two steps, so that no intermediate state violates (account_id, name) uniqueness.
    await tx.query("UPDATE mailboxes SET name = '\u0001rename/' || id::text WHERE id = ANY($1::bigint[])", [renamed.map((r) => r.id)]);
    for (const r of renamed) await tx.query("UPDATE mailboxes SET name = $2 WHERE id = $1", [r.id, r.name]);
    await createParents(tx, accountId, to);
    return { inbox: null };
  });
  if ("status" in outcome) return outcome;
  if (outcome.inbox) {
    await ctx.notifier.announce([{ accountId, mailboxId: outcome.inbox.mailboxId, uid: outcome.inbox.uid, modseq: outcome.inbox.modseq, kind: "expunge" }]);
  }
  return { status: "OK", text: "RENAME completed" };
};

async function createParents(tx: Queryable, accountId: number, name: string): Promise<void> {
  for (const parent of parentsOf(name)) {
    const v = await nextUidValidity(tx, accountId);
    await tx.query("INSERT INTO mailboxes (account_id, name, uidvalidity) VALUES ($1, $2, $3) ON CONFLICT (account_id, name) DO NOTHING", [accountId, parent, v]);
  }
}

async function renameInbox(tx: Queryable, accountId: number, inbox: MailboxRow, to: string): Promise<{ mailboxId: number; uid: number; modseq: number } | null> {
  await createParents(tx, accountId, to);
  const v = await nextUidValidity(tx, accountId);
  const created = await tx.query<{ id: string }>(
    "INSERT INTO mailboxes (account_id, name, uidvalidity, uidnext, highestmodseq) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    [accountId, to, v, inbox.uidNext, inbox.highestModseq],
  );
  const newId = Number(created.rows[0]!.id);
  const moved = await tx.query<{ uid: string }>("UPDATE messages SET mailbox_id = $2 WHERE mailbox_id = $1 RETURNING uid", [inbox.id, newId]);
  if (moved.rows.length === 0) return null;
  const uids = moved.rows.map((r) => Number(r.uid)).sort((a, b) => a - b);
  const bumped = await tx.query<{ modseq: string }>("UPDATE mailboxes SET highestmodseq = highestmodseq + 1 WHERE id = $1 RETURNING highestmodseq AS modseq", [inbox.id]);
  const modseq = Number(bumped.rows[0]!.modseq);
  await tx.query(
    `INSERT INTO expunged_messages (mailbox_id, uid, modseq) SELECT $1, u, $3 FROM unnest($2::bigint[]) AS u
     ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = EXCLUDED.modseq, expunged_at = now()`,
    [inbox.id, uids, modseq],
  );
  return { mailboxId: inbox.id, uid: uids.at(-1)!, modseq };
}
