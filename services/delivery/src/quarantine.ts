import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import type { MailClassified } from "@postline/events";
import { quarantineMessage } from "@postline/mailstore";
import type { Logger } from "@postline/telemetry";
import { recordDeliveries } from "./deliveries.ts";
import { HEADER_LIMIT, parseMessageBuffer } from "@postline/mime";
import type { DeliveryMetrics } from "./metrics.ts";
import type { RecipientPlan } from "./recipients.ts";

/**
 * A `quarantine` verdict, or `reject` after the message was accepted: kept in the quarantine table
 * (listable and releasable through the admin API), never bounced to a possibly forged sender.
 * Its recipients are recorded as `quarantined`; a release delivers them like any other mail.
 */
export async function quarantine(
  deps: { db: Db; blobs: BlobStore; metrics: DeliveryMetrics },
  event: MailClassified,
  plan: RecipientPlan,
  log: Logger,
): Promise<void> {
  const { db, blobs, metrics } = deps;
  const headers = await listingHeaders(blobs, event.blob.key, log);
  await recordDeliveries(db, event.id, event.envelope.mailFrom, [
    ...plan.local.map((a) => ({ recipient: a.address, status: "quarantined" as const })),
    ...plan.remote.map((recipient) => ({ recipient, status: "quarantined" as const })),
    ...plan.failed.map((f) => ({ recipient: f.recipient, status: "quarantined" as const, lastError: f.reason })),
  ]);
  const { created } = await quarantineMessage(db, event, headers);
  const recipients = plan.local.length + plan.remote.length + plan.failed.length;
  if (created) metrics.deliveries.inc({ outcome: "quarantined" }, recipients);
  log.info({ action: event.verdict.action, score: event.verdict.score, recipients: event.envelope.rcptTo, created }, "quarantined");
}

/** Subject and From for the admin listing; a message that does not parse is still quarantined. */
async function listingHeaders(blobs: BlobStore, key: string, log: Logger): Promise<{ subject: string | null; from: string | null }> {
  try {
    // The header is all it needs: at most the parser's header limit from the start.
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.getRange(key, 0, HEADER_LIMIT - 1)) chunks.push(chunk as Buffer);
    const { search } = parseMessageBuffer(Buffer.concat(chunks));
    return { subject: search.subject, from: search.from };
  } catch (err) {
    log.warn({ err }, "could not read the quarantined message's headers");
    return { subject: null, from: null };
  }
}
