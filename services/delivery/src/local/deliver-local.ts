import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import { Topics } from "@postline/bus";
import type { Db } from "@postline/db";
import type { ResolvedAccount } from "@postline/directory";
import { mailboxChanged, publishEvent, type MailClassified } from "@postline/events";
import {
  APPEND_COLUMNS,
  MailboxNotFound,
  QUARANTINE_RELEASED,
  appendCall,
  appendResultOf,
  isUniqueViolation,
  removeMessages,
  type AppendInput,
  type AppendResult,
  type AppendRow,
  type MailboxRef,
} from "@postline/mailstore";
import type { Logger } from "@postline/telemetry";
import { recordDeliveries } from "../deliveries.ts";
import type { DeliveryMetrics } from "../metrics.ts";
import { storedMessage, type StoredMessage } from "./stored-message.ts";

export interface LocalDeliveryDeps {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  metrics: DeliveryMetrics;
}

/**
 * The verdict that decides one account's copy: the account's own when the spam filter gave it one
 * that differs from the message's (its Bayes model, its lists), else the message's. A message an
 * operator released from quarantine (QUARANTINE_RELEASED) goes to every account as released: the
 * release is a decision about the message that the earlier per-account verdicts do not override.
 */
export function effectiveVerdict(verdict: MailClassified["verdict"], accountId: number): MailClassified["verdict"] {
  const own = verdict.accounts?.find((a) => a.accountId === accountId);
  if (!own || verdict.symbols.some((s) => s.name === QUARANTINE_RELEASED)) return verdict;
  return { action: own.action, score: own.score, symbols: own.symbols, authResults: verdict.authResults };
}

/**
 * Makes one stored message (delivery header + received bytes) per distinct effective verdict
 * (most messages: one, shared by every recipient account), parses it once, and appends it to each
 * account's INBOX, or its Junk mailbox when that account's verdict is not `deliver`: an account-level
 * junk, quarantine or reject (the message itself was delivered) puts that account's copy in its
 * Junk mailbox; there is no per-account quarantine. Every step is idempotent:
 * the header is deterministic, an append is at most once per (mailbox, mail
 * id), and `mailbox.changed` is published again for a repeated append (a crash may have come
 * between the append and the publish; IMAP treats it as a hint to look). Resolves once every append
 * is committed and every event acknowledged.
 *
 * `unreferenced`: a blob to register as unreferenced (registerUnreferencedBlob) in the same statement
 * as the last account's status, when the caller has nothing else to do in between. Resolves to
 * whether that was done.
 */
export async function deliverLocal(
  deps: LocalDeliveryDeps,
  event: MailClassified,
  accounts: ResolvedAccount[],
  log: Logger,
  unreferenced?: { key: string; size: number },
): Promise<boolean> {
  const { db, bus, blobs, metrics } = deps;
  // The X-Postline-Spam header names the verdict, so each distinct verdict has a prefix of its own.
  const copies = new Map<string, Promise<StoredMessage>>();
  const storedFor = (verdict: MailClassified["verdict"]): Promise<StoredMessage> => {
    const key = JSON.stringify([verdict.action, verdict.score, verdict.symbols]);
    let stored = copies.get(key);
    if (!stored) copies.set(key, (stored = storedMessage(blobs, { ...event, verdict })));
    return stored;
  };

  for (const [i, account] of accounts.entries()) {
    // The last account's status carries the caller's registration with it.
    const withStatus = i === accounts.length - 1 ? unreferenced : undefined;
    const verdict = effectiveVerdict(event.verdict, account.id);
    const junk = verdict.action !== "deliver";
    const stored = await storedFor(verdict);
    const { mailbox, overQuota, appended } = await appendToTarget(db, account.id, junk, {
      blob: { key: stored.key, size: stored.size, prefix: stored.prefix },
      flags: junk ? ["$Junk"] : [],
      internalDate: new Date(event.receivedAt),
      structure: stored.structure,
      mailId: event.id,
    });
    if (!mailbox || !appended) {
      log.error({ recipient: account.address }, "account has no INBOX: not delivered");
      await recordDeliveries(db, event.id, event.envelope.mailFrom, [{ recipient: account.address, status: "deferred", lastError: "no INBOX" }], withStatus);
      metrics.deliveries.inc({ outcome: "failed" });
      continue;
    }
    const r = appended;
    // A collected blob referenced again: its content may be gone (delivery did not read it, or the
    // collector's delete came after the put that made the read succeed). Then the copy is taken
    // back out and the recipients are recorded as for any lost received blob (handle-classified).
    if (r.blobCollected && !(await blobs.stat(stored.key))) {
      await removeMessages(db, { accountId: account.id, mailboxId: mailbox.id, uids: [r.uid] });
      throw new BlobNotFoundError(stored.key);
    }
    await publishEvent(bus, Topics.mailboxChanged, mailboxChanged, String(account.id), {
      v: 1,
      accountId: account.id,
      mailboxId: mailbox.id,
      uid: r.uid,
      modseq: r.modseq,
      kind: "append",
      mailId: event.id,
      origin: "delivery",
    });
    await recordDeliveries(db, event.id, event.envelope.mailFrom, [{ recipient: account.address, status: "delivered" }], withStatus);

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
  return unreferenced !== undefined && accounts.length > 0;
}

/**
 * Where the copy goes, whether it takes the account over its quota, and the append itself, in one
 * statement (one round trip): the oldest `\Junk` mailbox for a junk verdict when there is one, else
 * INBOX (matched case-insensitively), as findMailboxBySpecialUse / findMailboxByName would pick them,
 * then libs/mailstore's append (postline_append_message, migration 0011: what appendMessage runs)
 * into that mailbox. The choice and the usage are read first, in the statement's snapshot (the CTE
 * is materialised); the append, a volatile function, locks and reads afresh as appendMessage does.
 * With no such mailbox the function is called with none and changes nothing (`appended` null).
 *
 * Over quota at delivery time the message is still stored: it was accepted at RCPT (which refuses
 * accounts already over quota with 452), a bounce now would go to a possibly forged sender, and
 * holding it back would stall its partition. The overrun is logged and counted; the next RCPT refuses.
 */
async function appendToTarget(
  db: Db,
  accountId: number,
  junk: boolean,
  input: Omit<AppendInput, "accountId" | "mailboxId"> & { mailId: string },
): Promise<{ mailbox: MailboxRef | null; overQuota: boolean; appended: AppendResult | null }> {
  const call = appendCall(input, 5);
  const run = () =>
    db.query<AppendRow & { over: boolean | null; id: number | null; name: string | null; special_use: string | null }>(
      `WITH t AS MATERIALIZED (
         SELECT a.quota_bytes IS NOT NULL AND a.used_bytes + $4 > a.quota_bytes AS over, mb.id, mb.name, mb.special_use
           FROM accounts a
           LEFT JOIN LATERAL (
             SELECT id, name, special_use FROM mailboxes
              WHERE account_id = a.id AND (($2::boolean AND special_use = $3) OR upper(name) = 'INBOX')
              ORDER BY ($2::boolean AND special_use IS NOT DISTINCT FROM $3) DESC, id
              LIMIT 1
           ) mb ON true
          WHERE a.id = $1
       )
       SELECT t.over, t.id, t.name, t.special_use, ${APPEND_COLUMNS}
         FROM t CROSS JOIN LATERAL ${call.sql("$1::bigint", "t.id")} ap`,
      [accountId, junk, "\\Junk", input.blob.size, ...call.params],
    );
  let r;
  try {
    r = await run();
  } catch (err) {
    // As appendMessage: a concurrent insert by some other path ends as a duplicate (the function
    // finds that copy under the mailbox lock), not an error.
    if (!isUniqueViolation(err)) throw err;
    r = await run();
  }
  const row = r.rows[0];
  if (!row) return { mailbox: null, overQuota: false, appended: null };
  const overQuota = row.over ?? false;
  if (row.id === null) return { mailbox: null, overQuota, appended: null };
  const mailbox = { id: row.id, accountId, name: row.name!, specialUse: row.special_use };
  const appended = appendResultOf(row);
  // Chosen, then gone before the append could lock it: as appendMessage would have thrown.
  if (!appended) throw new MailboxNotFound(accountId, row.id);
  return { mailbox, overQuota, appended };
}
