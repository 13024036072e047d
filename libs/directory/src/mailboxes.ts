import type { Queryable } from "@postline/db";

/** The folders every new account starts with, and their RFC 6154 special-use attribute. */
export const DEFAULT_MAILBOXES: ReadonlyArray<{ name: string; specialUse: string | null }> = [
  { name: "INBOX", specialUse: null },
  { name: "Drafts", specialUse: "\\Drafts" },
  { name: "Sent", specialUse: "\\Sent" },
  { name: "Junk", specialUse: "\\Junk" },
  { name: "Trash", specialUse: "\\Trash" },
  { name: "Archive", specialUse: "\\Archive" },
];

/**
 * A UIDVALIDITY for a new mailbox: seconds since the epoch. A mailbox deleted and created again
 * under the same name a second later gets a new value, which is what IMAP clients rely on.
 */
export function newUidValidity(now = Date.now()): number {
  return Math.floor(now / 1000);
}

export async function createDefaultMailboxes(tx: Queryable, accountId: number): Promise<void> {
  const uidvalidity = newUidValidity();
  const values: string[] = [];
  const params: unknown[] = [accountId, uidvalidity];
  for (const m of DEFAULT_MAILBOXES) {
    params.push(m.name, m.specialUse);
    values.push(`($1, $${params.length - 1}, $${params.length}, $2)`);
  }
  await tx.query(`INSERT INTO mailboxes (account_id, name, special_use, uidvalidity) VALUES ${values.join(", ")}`, params);
}
