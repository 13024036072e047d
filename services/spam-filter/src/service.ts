import { performance } from "node:perf_hooks";
import type { AccountVerdict, Classifier, ClassifyResult } from "@postline/antispam";
import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import { Topics, type Bus, type BusMessage } from "@postline/bus";
import { parseConfig } from "@postline/config";
import { eventHandler, mailAccepted, mailClassified, publishEvent, type MailAccepted, type Verdict } from "@postline/events";
import type { ServiceModule } from "@postline/platform";
import type { Logger } from "@postline/telemetry";
import { startBayesExpiry } from "./bayes-expiry.ts";
import { buildClassifier } from "./build-classifier.ts";
import { startLearner } from "./learner.ts";
import { spamFilterMetrics, type SpamFilterMetrics } from "./metrics.ts";
import { ReceivedStructure } from "./received-structure.ts";
import { OutboundRate } from "./outbound-rate.ts";
import type { VerdictObserver } from "./policies.ts";
import { RecipientAccounts } from "./recipients.ts";
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
    const { classifier, policies } = buildClassifier({ db: ctx.db, blobs: ctx.blobs, settings, logger: ctx.logger, registry: ctx.registry });
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
      recipients: new RecipientAccounts(ctx.db, { ttlMs: settings.POSTLINE_SPAM_RECIPIENT_CACHE_SECONDS * 1000 }),
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
    // Learning from users' moves into and out of Junk: a consumer group of its own on mailbox.changed.
    const learner = settings.POSTLINE_SPAM_LEARN_FROM_USERS
      ? await startLearner({ db: ctx.db, bus: ctx.bus, blobs: ctx.blobs, logger: ctx.logger, registry: ctx.registry, settings })
      : undefined;
    const stopExpiry = startBayesExpiry({ db: ctx.db, settings, logger: ctx.logger, registry: ctx.registry });
    return {
      listening: {},
      stop: async () => {
        await Promise.all([consumer.stop(), learner?.stop(), stopExpiry()]);
        // The consumer is stopped: write the observers' buffered records (verdict record, reputation).
        await Promise.all(policies.observers.map((o) => o.close?.()));
      },
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
  /** Resolves the envelope recipients to local accounts, each of which gets a verdict of its own; none: no account verdicts. */
  recipients?: RecipientAccounts;
}

/** The account verdicts that differ from the message's (the event stays small: the others are implied). */
export function differingAccounts(result: Pick<ClassifyResult, "action" | "score" | "symbols">, accounts: AccountVerdict[]): NonNullable<Verdict["accounts"]> {
  const message = JSON.stringify([result.action, result.score, result.symbols]);
  return accounts
    .filter((a) => JSON.stringify([a.action, a.score, a.symbols]) !== message)
    .map((a) => ({ accountId: a.accountId, action: a.action, score: a.score, symbols: a.symbols }));
}

export function classifyAndPublish({ classifier, bus, blobs, logger, metrics, outboundRate, observers = [], recipients }: Deps) {
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
    // The local recipient accounts (a database failure throws: the bus retries the event).
    const accounts = recipients ? await recipients.resolve(event.envelope.rcptTo) : [];
    const received = new ReceivedStructure(event.blob.size);
    let result;
    try {
      result = await classifier.classify({
        open: async () => received.observe(await blobs.get(event.blob.key)),
        size: event.blob.size,
        source,
        client: { ip: event.client.ip, helo: event.client.helo, authUser: event.client.authUser },
        mailFrom: event.envelope.mailFrom,
        rcptTo: event.envelope.rcptTo,
        queueId: event.id,
        sessionSymbols: event.sessionSymbols,
        hits: rateHits,
        accounts,
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
    const own = differingAccounts(result, result.accounts);
    await publishEvent(bus, Topics.mailClassified, mailClassified, event.id, {
      ...event,
      source,
      verdict: { action: result.action, score: result.score, symbols: result.symbols, authResults: result.authResults, ...(own.length ? { accounts: own } : {}) },
      parsed: received.result(),
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
      {
        mailId: event.id,
        source,
        action: result.action,
        score: result.score,
        symbols: result.symbols.map((s) => s.name),
        ...(own.length ? { accounts: own.map((a) => ({ accountId: a.accountId, action: a.action, score: a.score })) } : {}),
        ms: Math.round(seconds * 1000),
      },
      "classified",
    );
  };
}
