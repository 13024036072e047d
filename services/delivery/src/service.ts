import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Topics, type Consumer } from "@postline/bus";
import { parseConfig, z } from "@postline/config";
import { deliveryRetry, eventHandler, mailClassified } from "@postline/events";
import { blobGc } from "@postline/mailstore";
import type { ServiceModule } from "@postline/platform";
import { handleClassified } from "./handle-classified.ts";
import { deliveryMetrics } from "./metrics.ts";
import { ResolutionCache } from "./recipients.ts";
import { RemoteDelivery } from "./remote/remote-delivery.ts";
import { remoteSchema } from "./remote/settings.ts";

const seconds = (fallback: number) => z.coerce.number({ message: "must be a number of seconds" }).int("must be a whole number").min(0).default(fallback);

const deliverySchema = z.object({
  /**
   * Partitions of mail.classified this process works on at once (order holds within each; appends
   * to one mailbox are serialised by its row lock whatever the partition). All 12 by default.
   */
  POSTLINE_DELIVERY_CONCURRENCY: z.coerce.number().int().positive().default(12),
  /**
   * Handled events' offsets are committed together at most this often (one request for every
   * partition) rather than one commit per event; 0 commits each event. Every step of delivery is
   * idempotent, so a crash only hands up to this much work over again.
   */
  POSTLINE_DELIVERY_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).default(200),
  /**
   * How long a recipient resolution that leads somewhere is reused (see ResolutionCache); 0 asks
   * the directory for every event.
   */
  POSTLINE_DELIVERY_RECIPIENT_CACHE_MS: z.coerce.number().int().min(0).default(5000),
  /** How often the blob collector runs in this process; 0 turns it off. */
  POSTLINE_BLOB_GC_INTERVAL_SECONDS: seconds(600),
  /** How long a blob stays unreferenced before it is deleted (covers redelivered events and quarantine releases in flight). */
  POSTLINE_BLOB_GC_GRACE_SECONDS: seconds(24 * 60 * 60),
});

/** The consumer group of every delivery process: they share mail.classified's partitions. */
export const DELIVERY_GROUP = "delivery";
/** The group reading the retry topics (its own: members of one group must subscribe to the same topics). */
export const RETRY_GROUP = "delivery-retry";

/**
 * Delivery: consumes `mail.classified` in the `delivery` group. The local part stores messages
 * into mailboxes (or quarantine); the remote part queues remote recipients and sends them to their
 * MX hosts, retrying through `delivery.retry.<tier>` (group `delivery-retry`) and bouncing with
 * DSNs. It also runs the blob collector (every replica may; they skip each other's rows).
 */
export const deliveryService: ServiceModule = {
  name: "delivery",
  async start(ctx) {
    const settings = parseConfig(deliverySchema, ctx.env);
    const metrics = deliveryMetrics(ctx.registry);
    const resolutions = new ResolutionCache(settings.POSTLINE_DELIVERY_RECIPIENT_CACHE_MS);
    const remoteSettings = parseConfig(remoteSchema, ctx.env);
    const owner = `${hostname()}/${process.pid}/${randomBytes(4).toString("hex")}`;
    const remote = new RemoteDelivery({ db: ctx.db, bus: ctx.bus, blobs: ctx.blobs, logger: ctx.logger, metrics, owner }, remoteSettings);
    remote.start();
    const deps = { db: ctx.db, bus: ctx.bus, blobs: ctx.blobs, logger: ctx.logger, metrics, resolutions, remote };

    const consumer: Consumer = await ctx.bus.consume({
      groupId: DELIVERY_GROUP,
      topics: [Topics.mailClassified],
      partitionsConcurrently: settings.POSTLINE_DELIVERY_CONCURRENCY,
      commitIntervalMs: settings.POSTLINE_DELIVERY_COMMIT_INTERVAL_MS,
      handler: eventHandler(
        mailClassified,
        (event) => handleClassified(deps, event),
        (err, message) => ctx.logger.error({ err, topic: message.topic, partition: message.partition, offset: message.offset }, "invalid mail.classified event skipped"),
      ),
    });

    const retries: Consumer = await ctx.bus.consume({
      groupId: RETRY_GROUP,
      topics: RemoteDelivery.retryTopics(),
      partitionsConcurrently: settings.POSTLINE_DELIVERY_CONCURRENCY,
      handler: eventHandler(
        deliveryRetry,
        (event) => remote.handleRetry(event),
        (err, message) => ctx.logger.error({ err, topic: message.topic, partition: message.partition, offset: message.offset }, "invalid retry record skipped"),
      ),
    });

    let gcRun: Promise<void> | undefined;
    const collect = () => {
      gcRun ??= blobGc(ctx.db, ctx.blobs, settings.POSTLINE_BLOB_GC_GRACE_SECONDS * 1000)
        .then((r) => {
          metrics.blobsCollected.inc(r.deleted.length);
          if (r.deleted.length > 0) ctx.logger.info({ deleted: r.deleted.length }, "unreferenced blobs collected");
        })
        .catch((err) => ctx.logger.warn({ err }, "blob collection failed"))
        .finally(() => {
          gcRun = undefined;
        });
    };
    const gcTimer = settings.POSTLINE_BLOB_GC_INTERVAL_SECONDS > 0 ? setInterval(collect, settings.POSTLINE_BLOB_GC_INTERVAL_SECONDS * 1000) : undefined;
    gcTimer?.unref();

    ctx.logger.info({ group: DELIVERY_GROUP, concurrency: settings.POSTLINE_DELIVERY_CONCURRENCY, owner }, "delivery consuming mail.classified and the retry topics");
    return {
      listening: {},
      async stop() {
        clearInterval(gcTimer);
        await Promise.all([consumer.stop(), retries.stop()]);
        await remote.stop();
        await gcRun;
      },
    };
  },
};
