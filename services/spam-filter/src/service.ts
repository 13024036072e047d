import { performance } from "node:perf_hooks";
import { createClassifier, resolverFromSettings, type Classifier } from "@postline/antispam";
import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import { Topics, type Bus, type BusMessage } from "@postline/bus";
import { parseConfig } from "@postline/config";
import { eventHandler, mailAccepted, mailClassified, publishEvent, type MailAccepted } from "@postline/events";
import type { ServiceModule } from "@postline/platform";
import type { Logger } from "@postline/telemetry";
import { spamFilterMetrics, type SpamFilterMetrics } from "./metrics.ts";
import { spamFilterSchema } from "./settings.ts";

export const CONSUMER_GROUP = "spam-filter";

/**
 * Classifies every accepted message and publishes `mail.classified`. The offset is committed only after
 * the publish, so a crash re-classifies (a duplicate classified event, which delivery de-duplicates).
 */
export const spamFilterService: ServiceModule = {
  name: "spam-filter",
  async start(ctx) {
    const settings = parseConfig(spamFilterSchema, ctx.env);
    const resolver = resolverFromSettings(settings);
    const classifier = createClassifier({
      hostname: settings.POSTLINE_HOSTNAME,
      resolver,
      dnsblZones: settings.POSTLINE_DNSBL_ZONES,
      thresholds: {
        junk: settings.POSTLINE_SPAM_JUNK_SCORE,
        quarantine: settings.POSTLINE_SPAM_QUARANTINE_SCORE,
        reject: settings.POSTLINE_SPAM_REJECT_SCORE,
      },
      maxContentBytes: settings.POSTLINE_SPAM_MAX_CONTENT_BYTES,
    });
    const metrics = spamFilterMetrics(ctx.registry);
    const classify = classifyAndPublish({ classifier, bus: ctx.bus, blobs: ctx.blobs, logger: ctx.logger, metrics });

    const consumer = await ctx.bus.consume({
      groupId: CONSUMER_GROUP,
      topics: [Topics.mailReceived, Topics.mailSubmitted],
      partitionsConcurrently: settings.POSTLINE_SPAM_CONCURRENCY,
      commitIntervalMs: settings.POSTLINE_SPAM_COMMIT_INTERVAL_MS,
      handler: eventHandler(
        mailAccepted,
        (event, message) => classify(event, message),
        (err, message) => ctx.logger.error({ err, topic: message.topic, offset: message.offset }, "invalid event skipped"),
      ),
    });
    ctx.logger.info(
      { dnsServers: settings.POSTLINE_DNS_SERVERS, dnsblZones: settings.POSTLINE_DNSBL_ZONES, hostname: settings.POSTLINE_HOSTNAME },
      "spam filter consuming",
    );
    return {
      listening: {},
      stop: () => consumer.stop(),
    };
  },
};

interface Deps {
  classifier: Classifier;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  metrics: SpamFilterMetrics;
}

export function classifyAndPublish({ classifier, bus, blobs, logger, metrics }: Deps) {
  return async (event: MailAccepted, message: Pick<BusMessage, "topic">): Promise<void> => {
    const source = message.topic === Topics.mailSubmitted ? "submission" : "inbound";
    const started = performance.now();
    let result;
    try {
      result = await classifier.classify({
        open: () => blobs.get(event.blob.key),
        size: event.blob.size,
        source,
        client: { ip: event.client.ip, helo: event.client.helo, authUser: event.client.authUser },
        mailFrom: event.envelope.mailFrom,
        sessionSymbols: event.sessionSymbols,
      });
    } catch (err) {
      // A missing blob never appears later: skip the event rather than stop the partition. Any other
      // read failure (blob store down) throws, and the bus retries with back-off.
      if (!(err instanceof BlobNotFoundError)) throw err;
      metrics.missingBlobs.inc();
      logger.error({ mailId: event.id, blob: event.blob.key }, "message blob missing; event skipped");
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    for (const { rule, error } of result.errors) {
      metrics.ruleErrors.inc({ rule });
      logger.warn({ mailId: event.id, rule, err: error }, "rule failed; classified without it");
    }
    await publishEvent(bus, Topics.mailClassified, mailClassified, event.id, {
      ...event,
      source,
      verdict: { action: result.action, score: result.score, symbols: result.symbols, authResults: result.authResults },
    });
    metrics.classifySeconds.observe({ source }, seconds);
    metrics.verdicts.inc({ action: result.action, source });
    for (const symbol of result.symbols) metrics.symbols.inc({ symbol: symbol.name });
    logger.info(
      { mailId: event.id, source, action: result.action, score: result.score, symbols: result.symbols.map((s) => s.name), ms: Math.round(seconds * 1000) },
      "classified",
    );
  };
}
