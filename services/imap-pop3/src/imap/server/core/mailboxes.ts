import type { Queryable } from "@postline/db";
import type { StatusItem } from "../../protocol/types.ts";
import { mailboxToWire } from "./mailbox-names.ts";
import type { SessionContext } from "./op.ts";

/** A mailbox row as the non-selected-state commands need it. Every query filters by account. */
export interface MailboxRow {
  id: number;
  name: string;
  specialUse: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

const COLUMNS = `id::int AS id, name, special_use, subscribed, uidvalidity::bigint AS uidvalidity, uidnext::bigint AS uidnext, highestmodseq::bigint AS highestmodseq`;

interface Raw {
  id: number;
  name: string;
  special_use: string | null;
  subscribed: boolean;
  uidvalidity: string | number;
  uidnext: string | number;
  highestmodseq: string | number;
}

const toRow = (r: Raw): MailboxRow => ({
  id: Number(r.id),
  name: r.name,
  specialUse: r.special_use,
  subscribed: r.subscribed,
  uidValidity: Number(r.uidvalidity),
  uidNext: Number(r.uidnext),
  highestModseq: Number(r.highestmodseq),
});

export async function listMailboxRows(db: Queryable, accountId: number): Promise<MailboxRow[]> {
  const r = await db.query<Raw>(`SELECT ${COLUMNS} FROM mailboxes WHERE account_id = $1 ORDER BY name`, [accountId]);
  return r.rows.map(toRow);
}

/** The account's mailbox by its stored name (INBOX already normalised by mailboxFromWire). */
export async function findMailboxRow(db: Queryable, accountId: number, name: string, forUpdate = false): Promise<MailboxRow | null> {
  const r = await db.query<Raw>(`SELECT ${COLUMNS} FROM mailboxes WHERE account_id = $1 AND name = $2${forUpdate ? " FOR UPDATE" : ""}`, [accountId, name]);
  return r.rows[0] ? toRow(r.rows[0]) : null;
}

export interface MailboxCounts {
  messages: number;
  unseen: number;
  deleted: number;
  size: number;
}

export async function mailboxCounts(db: Queryable, mailboxId: number): Promise<MailboxCounts> {
  const r = await db.query<{ messages: string; unseen: string; deleted: string; size: string }>(
    `SELECT count(*) AS messages,
            count(*) FILTER (WHERE NOT ('\\Seen' = ANY(flags))) AS unseen,
            count(*) FILTER (WHERE '\\Deleted' = ANY(flags)) AS deleted,
            coalesce(sum(size), 0) AS size
       FROM messages WHERE mailbox_id = $1`,
    [mailboxId],
  );
  const row = r.rows[0]!;
  return { messages: Number(row.messages), unseen: Number(row.unseen), deleted: Number(row.deleted), size: Number(row.size) };
}

const NEEDS_COUNTS = new Set<StatusItem>(["MESSAGES", "UNSEEN", "DELETED", "SIZE"]);

/** `* STATUS <name> (<item> <value> ...)` for one mailbox, in the order the client asked. */
export async function statusLine(ctx: SessionContext, mailbox: MailboxRow, items: StatusItem[]): Promise<string> {
  const counts = items.some((i) => NEEDS_COUNTS.has(i)) ? await mailboxCounts(ctx.db, mailbox.id) : undefined;
  const values: string[] = [];
  for (const item of new Set(items)) {
    values.push(`${item} ${statusValue(ctx, mailbox, counts, item)}`);
  }
  return `* STATUS ${mailboxToWire(ctx, mailbox.name)} (${values.join(" ")})\r\n`;
}

function statusValue(ctx: SessionContext, m: MailboxRow, counts: MailboxCounts | undefined, item: StatusItem): number {
  switch (item) {
    case "MESSAGES":
      return counts!.messages;
    case "UNSEEN":
      return counts!.unseen;
    case "DELETED":
      return counts!.deleted;
    case "SIZE":
      return counts!.size;
    case "UIDNEXT":
      return m.uidNext;
    case "UIDVALIDITY":
      return m.uidValidity;
    case "HIGHESTMODSEQ":
      return m.highestModseq;
    case "RECENT":
      // \Recent is not kept (RFC 9051 dropped it); rev1 clients are told nothing is recent.
      return 0;
    case "APPENDLIMIT":
      return ctx.settings.appendLimit;
  }
}

/** A UIDVALIDITY for a new mailbox of the account: the time in seconds, and above every value the account uses now. */
export async function nextUidValidity(db: Queryable, accountId: number): Promise<number> {
  const r = await db.query<{ v: string }>(
    "SELECT GREATEST(floor(extract(epoch FROM now()))::bigint, coalesce(max(uidvalidity), 0) + 1) AS v FROM mailboxes WHERE account_id = $1",
    [accountId],
  );
  return Math.min(Number(r.rows[0]!.v), 0xffffffff);
}
