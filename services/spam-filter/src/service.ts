import { performance } from "node:perf_hooks";
import { createClassifier, defaultRules, resolverFromSettings, type Classifier } from "@postline/antispam";
import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import { Topics, type Bus, type BusMessage } from "@postline/bus";
import { parseConfig } from "@postline/config";
import { eventHandler, mailAccepted, mailClassified, publishEvent, type MailAccepted } from "@postline/events";
import type { ServiceModule } from "@postline/platform";
import type { Logger } from "@postline/telemetry";
import { spamFilterMetrics, type SpamFilterMetrics } from "./metrics.ts";
import { OutboundRate, outboundSymbols } from "./outbound-rate.ts";
import { createPolicies, type VerdictObserver } from "./policies.ts";
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
    const policies = createPolicies({ db: ctx.db, blobs: ctx.blobs, settings, logger: ctx.logger, registry: ctx.registry });
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
      symbols: outboundSymbols(settings.POSTLINE_SPAM_OUTBOUND_SCORE ?? settings.POSTLINE_SPAM_QUARANTINE_SCORE),
      rules: [...defaultRules, ...policies.rules],
      accountPolicies: policies.accountPolicies,
    });
    const outboundRate = new OutboundRate(ctx.db, {
      perMinute: settings.POSTLINE_SPAM_OUTBOUND_PER_MINUTE,
      perHour: settings.POSTLINE_SPAM_OUTBOUND_PER_HOUR,
      recipientsPerHour: settings.POSTLINE_SPAM_OUTBOUND_RCPTS_PER_HOUR,
    });
    const metrics = spamFilterMetrics(ctx.registry);
    const classify = classifyAndPublish({
      classifier,
      bus: ctx.bus,
      blobs: ctx.blobs,
      logger: ctx.logger,
      metrics,
      outboundRate,
      observers: policies.observers,
    });

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
  /** The outbound rate check of submitted mail; none: not checked. */
  outboundRate?: OutboundRate;
  observers?: VerdictObserver[];
}

export function classifyAndPublish({ classifier, bus, blobs, logger, metrics, outboundRate, observers = [] }: Deps) {
  return async (event: MailAccepted, message: Pick<BusMessage, "topic">): Promise<void> => {
    const source = message.topic === Topics.mailSubmitted ? "submission" : "inbound";
    const started = performance.now();
    // Only mail.submitted of an authenticated account is rate-counted, before the content is read. A
    // database failure throws, and the bus retries: outbound mail waits rather than skip the check.
    const authUser = event.client.authUser;
    const rateHits =
      source === "submission" && authUser && outboundRate?.enabled
        ? await outboundRate.check({ id: event.id, account: authUser, recipients: event.envelope.rcptTo, at: new Date(event.receivedAt) })
        : [];
    let result;
    try {
      result = await classifier.classify({
        open: () => blobs.get(event.blob.key),
        size: event.blob.size,
        source,
        client: { ip: event.client.ip, helo: event.client.helo, authUser: event.client.authUser },
        mailFrom: event.envelope.mailFrom,
        sessionSymbols: event.sessionSymbols,
        hits: rateHits,
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
    for (const observer of observers) {
      try {
        await observer.observe({ event, source, result });
      } catch (err) {
        metrics.ruleErrors.inc({ rule: observer.name });
        logger.warn({ mailId: event.id, observer: observer.name, err }, "verdict observer failed");
      }
    }
    logger.info(
      { mailId: event.id, source, action: result.action, score: result.score, symbols: result.symbols.map((s) => s.name), ms: Math.round(seconds * 1000) },
      "classified",
    );
  };
}
