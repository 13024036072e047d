import type { Queryable } from "@postline/db";

/** A mailbox as delivery and IMAP need it for appends. */
export interface MailboxRef {
  id: number;
  accountId: number;
  name: string;
  specialUse: string | null;
}

interface MailboxRow {
  id: number;
  account_id: number;
  name: string;
  special_use: string | null;
}

const toRef = (r: MailboxRow): MailboxRef => ({ id: r.id, accountId: r.account_id, name: r.name, specialUse: r.special_use });

/** The account's mailbox by name; INBOX is matched case-insensitively (RFC 9051 §5.1). */
export async function findMailboxByName(db: Queryable, accountId: number, name: string): Promise<MailboxRef | null> {
  const inbox = name.toUpperCase() === "INBOX";
  const r = await db.query<MailboxRow>(
    `SELECT id, account_id, name, special_use FROM mailboxes
      WHERE account_id = $1 AND (CASE WHEN $3::boolean THEN upper(name) = 'INBOX' ELSE name = $2 END)
      ORDER BY id LIMIT 1`,
    [accountId, name, inbox],
  );
  return r.rows[0] ? toRef(r.rows[0]) : null;
}

/** The account's mailbox with this RFC 6154 attribute (e.g. `\Junk`), the oldest if several. */
export async function findMailboxBySpecialUse(db: Queryable, accountId: number, specialUse: string): Promise<MailboxRef | null> {
  const r = await db.query<MailboxRow>(
    "SELECT id, account_id, name, special_use FROM mailboxes WHERE account_id = $1 AND special_use = $2 ORDER BY id LIMIT 1",
    [accountId, specialUse],
  );
  return r.rows[0] ? toRef(r.rows[0]) : null;
}
