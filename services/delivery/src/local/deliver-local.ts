import type { BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import { Topics } from "@postline/bus";
import type { Db } from "@postline/db";
import type { ResolvedAccount } from "@postline/directory";
import { mailboxChanged, publishEvent, type MailClassified } from "@postline/events";
import { appendMessage, findMailboxByName, findMailboxBySpecialUse, type MailboxRef } from "@postline/mailstore";
import type { Logger } from "@postline/telemetry";
import { recordDeliveries } from "../deliveries.ts";
import type { DeliveryMetrics } from "../metrics.ts";
import { putStoredMessage } from "./stored-message.ts";

export interface LocalDeliveryDeps {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  metrics: DeliveryMetrics;
}

/**
 * Stores one copy of the message (delivery header + received bytes), parses it once, and appends
 * it to each account's INBOX, or its Junk mailbox for a junk verdict. Every step is idempotent:
 * the blob is content-addressed and deterministic, an append is at most once per (mailbox, mail
 * id), and `mailbox.changed` is published again for a repeated append (a crash may have come
 * between the append and the publish; IMAP treats it as a hint to look). Resolves once every append
 * is committed and every event acknowledged.
 */
export async function deliverLocal(deps: LocalDeliveryDeps, event: MailClassified, accounts: ResolvedAccount[], log: Logger): Promise<void> {
  const { db, bus, blobs, metrics } = deps;
  const junk = event.verdict.action === "junk";
  const stored = await putStoredMessage(blobs, event);

  for (const account of accounts) {
    const mailbox = await targetMailbox(db, account.id, junk);
    if (!mailbox) {
      log.error({ recipient: account.address }, "account has no INBOX: not delivered");
      await recordDeliveries(db, event.id, event.envelope.mailFrom, [{ recipient: account.address, status: "deferred", lastError: "no INBOX" }]);
      metrics.deliveries.inc({ outcome: "failed" });
      continue;
    }
    const overQuota = await wouldExceedQuota(db, account.id, stored.size);
    const r = await appendMessage(db, {
      accountId: account.id,
      mailboxId: mailbox.id,
      blob: { key: stored.key, size: stored.size },
      flags: junk ? ["$Junk"] : [],
      internalDate: new Date(event.receivedAt),
      structure: stored.structure,
      mailId: event.id,
    });
    // A new blob row means the content may have been collected as unreferenced before: if the
    // collector deleted it between our put and our append, store it again (referenced now, it stays).
    if (r.blobCreated && !(await blobs.stat(stored.key))) {
      log.warn({ blob: stored.key }, "stored message was collected during delivery: storing it again");
      await putStoredMessage(blobs, event);
    }
    await publishEvent(bus, Topics.mailboxChanged, mailboxChanged, String(account.id), {
      v: 1,
      accountId: account.id,
      mailboxId: mailbox.id,
      uid: r.uid,
      modseq: r.modseq,
      kind: "append",
      mailId: event.id,
    });
    await recordDeliveries(db, event.id, event.envelope.mailFrom, [{ recipient: account.address, status: "delivered" }]);

    if (r.duplicate) {
      metrics.deliveries.inc({ outcome: "duplicate" });
      log.info({ recipient: account.address, mailbox: mailbox.name, uid: r.uid }, "already delivered");
    } else {
      metrics.deliveries.inc({ outcome: junk ? "junk" : "inbox" });
      metrics.latency.observe(Math.max(0, (Date.now() - Date.parse(event.receivedAt)) / 1000));
      if (overQuota) metrics.overQuota.inc();
      log.info({ recipient: account.address, mailbox: mailbox.name, uid: r.uid, size: stored.size, overQuota }, "delivered");
    }
  }
}

async function targetMailbox(db: Db, accountId: number, junk: boolean): Promise<MailboxRef | null> {
  if (junk) {
    const j = await findMailboxBySpecialUse(db, accountId, "\\Junk");
    if (j) return j;
  }
  return findMailboxByName(db, accountId, "INBOX");
}

/**
 * Over quota at delivery time the message is still stored: it was accepted at RCPT (which refuses
 * accounts already over quota with 452), a bounce now would go to a possibly forged sender, and
 * holding it back would stall its partition. The overrun is logged and counted; the next RCPT refuses.
 */
async function wouldExceedQuota(db: Db, accountId: number, size: number): Promise<boolean> {
  const r = await db.query<{ over: boolean }>(
    "SELECT quota_bytes IS NOT NULL AND used_bytes + $2 > quota_bytes AS over FROM accounts WHERE id = $1",
    [accountId, size],
  );
  return r.rows[0]?.over ?? false;
}
