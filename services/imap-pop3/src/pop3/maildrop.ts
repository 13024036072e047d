import type { Db } from "@postline/db";
import { contentOf, findMailboxByName, removeMessages, type MessageContent } from "@postline/mailstore";
import type { ChangeNotifier, MailboxChange } from "../imap/server/core/op.ts";

export interface MaildropMessage {
  uid: number;
  size: number;
  content: MessageContent;
  deleted: boolean;
}

/**
 * The account's INBOX as it was at login (RFC 1939 maildrop): message numbers 1..n stay fixed for
 * the session; mail arriving later is shown in the next session. DELE only marks; `commit` (the
 * UPDATE state) expunges the marked messages in one transaction.
 *
 * No exclusive lock: like Dovecot's default (pop3_lock_session = no) and like IMAP, concurrent
 * sessions of one account each work on their own snapshot. Deleting a message another session
 * already deleted is harmless (removeMessages skips UIDs that are gone), and a RETR of a message
 * expunged meanwhile still works while its blob exists (the blob collector waits a grace period).
 */
export class Maildrop {
  private constructor(
    readonly accountId: number,
    readonly mailboxId: number,
    readonly uidValidity: number,
    readonly messages: MaildropMessage[],
  ) {}

  static async open(db: Db, accountId: number): Promise<Maildrop> {
    const inbox = await findMailboxByName(db, accountId, "INBOX");
    if (!inbox) throw new Error(`account ${accountId} has no INBOX`);
    const mb = await db.query<{ uidvalidity: number }>("SELECT uidvalidity FROM mailboxes WHERE id = $1", [inbox.id]);
    const rows = await db.query<{ uid: number; size: number; blob_hash: string; header_prefix: Uint8Array | null }>(
      "SELECT uid, size, blob_hash, header_prefix FROM messages WHERE mailbox_id = $1 ORDER BY uid",
      [inbox.id],
    );
    const messages = rows.rows.map((r) => ({
      uid: Number(r.uid),
      size: Number(r.size),
      content: contentOf(r.blob_hash, r.header_prefix),
      deleted: false,
    }));
    return new Maildrop(accountId, inbox.id, Number(mb.rows[0]!.uidvalidity), messages);
  }

  /** The message with this number (1-based) unless it is out of range or marked deleted. */
  get(n: number): MaildropMessage | undefined {
    const m = this.messages[n - 1];
    return m && !m.deleted ? m : undefined;
  }

  /** Messages not marked deleted, and their total octets (STAT). */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const m of this.messages) {
      if (m.deleted) continue;
      count++;
      octets += m.size;
    }
    return { count, octets };
  }

  /** UIDL unique-id: stable for the message as long as the INBOX's UIDVALIDITY is. */
  uniqueId(m: MaildropMessage): string {
    return `${this.uidValidity}.${m.uid}`;
  }

  reset(): void {
    for (const m of this.messages) m.deleted = false;
  }

  /** Expunges the messages marked deleted (committed when this resolves), then tells the other sessions. */
  async commit(db: Db, notifier: ChangeNotifier): Promise<{ removed: number; announced: boolean }> {
    const uids = this.messages.filter((m) => m.deleted).map((m) => m.uid);
    if (uids.length === 0) return { removed: 0, announced: true };
    const result = await removeMessages(db, { accountId: this.accountId, mailboxId: this.mailboxId, uids });
    if (result.expunged.length === 0) return { removed: 0, announced: true };
    const changes: MailboxChange[] = result.expunged.map((e) => ({
      accountId: this.accountId,
      mailboxId: this.mailboxId,
      uid: e.uid,
      modseq: result.modseq,
      kind: "expunge",
      ...(e.mailId ? { mailId: e.mailId } : {}),
    }));
    try {
      await notifier.announce(changes);
      return { removed: result.expunged.length, announced: true };
    } catch {
      return { removed: result.expunged.length, announced: false };
    }
  }
}
