import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { MailClassified } from "@postline/events";
import { QUARANTINE_RELEASED, finishRelease, registerUnreferencedBlob } from "@postline/mailstore";
import type { Logger } from "@postline/telemetry";
import { deliveryStatuses, recordDeliveries } from "./deliveries.ts";
import { deliverLocal } from "./local/deliver-local.ts";
import type { DeliveryMetrics } from "./metrics.ts";
import { quarantine } from "./quarantine.ts";
import { planRecipients, type ResolutionCache } from "./recipients.ts";
import type { RemoteDelivery } from "./remote/remote-delivery.ts";

export interface DeliveryDeps {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  metrics: DeliveryMetrics;
  /** Reuses recent recipient resolutions (the service passes one); without it every event asks the directory. */
  resolutions?: ResolutionCache;
  /** The remote part: queues and sends to other domains' MX hosts. */
  remote: Pick<RemoteDelivery, "enqueue">;
}

/**
 * One `mail.classified` event. Resolves only when everything it did is durable (appends committed,
 * events acknowledged, statuses recorded), so the bus commits the offset after the effects; every
 * step is idempotent, so an event handled again after a crash changes nothing that was done.
 */
export async function handleClassified(deps: DeliveryDeps, event: MailClassified): Promise<void> {
  const { db, metrics } = deps;
  const log = deps.logger.child({ mailId: event.id });
  const statuses = await deliveryStatuses(db, event.id);
  if ([...statuses.values()].includes("deleted")) {
    log.info("discarded from quarantine: not delivered");
    return;
  }
  const plan = await planRecipients(db, event, deps.resolutions);

  if (event.verdict.action === "quarantine" || event.verdict.action === "reject") {
    await quarantine(deps, event, plan, log);
    return;
  }

  const pending = plan.local.filter((a) => statuses.get(a.address) !== "delivered");
  const newRemote = plan.remote.filter((r) => statuses.get(r) === undefined || statuses.get(r) === "quarantined");
  const newFailed = plan.failed.filter((f) => statuses.get(f.recipient) === undefined || statuses.get(f.recipient) === "quarantined");
  // The received blob is what every local copy references (behind its header prefix). Once the
  // local copies are appended and nothing remote or failed remains, it is registered for the
  // collector, which takes it only when nothing references it: no local copy (every recipient had
  // it already, or none is local), no quarantine entry. Most messages: with the last local status.
  const received = { key: event.blob.key, size: event.blob.size };
  let registered = false;
  if (pending.length > 0) {
    try {
      registered = await deliverLocal(deps, event, pending, log, newRemote.length === 0 && newFailed.length === 0 ? received : undefined);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError) || err.key !== event.blob.key) throw err;
      // Retrying cannot bring the content back; record it and let the partition go on.
      log.error({ blob: event.blob.key }, "the received message is missing from the blob store: not delivered");
      await recordDeliveries(
        db,
        event.id,
        event.envelope.mailFrom,
        pending.map((a) => ({ recipient: a.address, status: "deferred" as const, lastError: "message content missing from the blob store" })),
      );
      metrics.deliveries.inc({ outcome: "failed" }, pending.length);
    }
  } else if (plan.local.length > 0) {
    log.info("every local recipient has it already");
  }

  if (newRemote.length > 0) {
    await deps.remote.enqueue(event, newRemote);
    log.info({ recipients: newRemote }, "remote recipients queued");
  }

  if (newFailed.length > 0) {
    await recordDeliveries(
      db,
      event.id,
      event.envelope.mailFrom,
      newFailed.map((f) => ({ recipient: f.recipient, status: "bounced" as const, lastError: f.reason })),
    );
    metrics.deliveries.inc({ outcome: "failed" }, newFailed.length);
    log.warn({ failed: newFailed }, "recipients no longer exist: not delivered (no DSN is sent)");
  }

  if (!registered) await registerUnreferencedBlob(db, received);
  if (event.verdict.symbols.some((s) => s.name === QUARANTINE_RELEASED)) await finishRelease(db, event.id);
}
