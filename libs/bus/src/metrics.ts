import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Bus, BusMessage, ConsumeOptions, Consumer } from "./bus.ts";
import { isHandleLater } from "./handle-later.ts";

/** The bus metrics on one registry (created once; several buses on one registry share them). */
export interface BusMetrics {
  consumerLag: Gauge<"group" | "topic" | "partition">;
  produceSeconds: Histogram<"topic">;
  handleSeconds: Histogram<"group" | "topic">;
  recordAgeSeconds: Histogram<"group" | "topic">;
  handlerErrors: Counter<"group" | "topic">;
}

/** Milliseconds to a minute: a produce or a handler call is usually a few ms. */
const FAST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Consume latency: milliseconds when the consumers keep up, up to an hour behind (retry topics wait on purpose). */
const AGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

export function busMetrics(registry: Registry): BusMetrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const registers = [registry];
  return {
    consumerLag: get(
      "postline_bus_consumer_lag",
      () =>
        new Gauge({
          name: "postline_bus_consumer_lag",
          help: "Records behind the consumer group's committed offset, per partition (refreshed by each process for the groups it consumes)",
          labelNames: ["group", "topic", "partition"],
          registers,
        }),
    ),
    produceSeconds: get(
      "postline_bus_produce_seconds",
      () => new Histogram({ name: "postline_bus_produce_seconds", help: "produce() until the bus acknowledged the records", labelNames: ["topic"], buckets: FAST_BUCKETS, registers }),
    ),
    handleSeconds: get(
      "postline_bus_handle_seconds",
      () => new Histogram({ name: "postline_bus_handle_seconds", help: "Duration of one handler call", labelNames: ["group", "topic"], buckets: FAST_BUCKETS, registers }),
    ),
    recordAgeSeconds: get(
      "postline_bus_record_age_seconds",
      () =>
        new Histogram({
          name: "postline_bus_record_age_seconds",
          help: "Age of a record (now - its append timestamp) when its handler starts: consume latency",
          labelNames: ["group", "topic"],
          buckets: AGE_BUCKETS,
          registers,
        }),
    ),
    handlerErrors: get(
      "postline_bus_handler_errors_total",
      () => new Counter({ name: "postline_bus_handler_errors_total", help: "Handler calls that threw (the record is retried); HandleLater is not counted", labelNames: ["group", "topic"], registers }),
    ),
  };
}

export interface BusMetricsOptions {
  /** How often the lag of the consumed groups is read from the bus (default 15 s). */
  lagIntervalMs?: number;
  /** Told when reading the lag fails (it is tried again at the next interval). */
  onLagError?(err: unknown): void;
}

/** Groups of ephemeral consumers (random per process) share one label value, to keep the series bounded. */
const EPHEMERAL_GROUP = "ephemeral";

/**
 * Adds metrics to any Bus. Wrap it outside withNamespace, so topic and group labels are the logical
 * names: produce and handler latency, record age, handler errors, and the consumer lag of every
 * (non-ephemeral) group this bus consumes, read from the bus every `lagIntervalMs`.
 */
export function withMetrics(bus: Bus, registry: Registry, options: BusMetricsOptions = {}): Bus {
  const m = busMetrics(registry);
  /** Groups consumed here: their topics and how many consumers of this bus run for them. */
  const groups = new Map<string, { topics: Set<string>; consumers: number; series: Set<string> }>();
  let refreshing: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;

  const removeSeries = (groupId: string) => {
    const g = groups.get(groupId);
    for (const key of g?.series ?? []) {
      const [topic, partition] = JSON.parse(key) as [string, string];
      m.consumerLag.remove({ group: groupId, topic, partition });
    }
    g?.series.clear();
  };

  const refreshLag = (): Promise<void> => {
    const lagOf = bus.consumerLag?.bind(bus);
    if (!lagOf) return Promise.resolve();
    refreshing ??= (async () => {
      for (const [groupId, g] of [...groups]) {
        try {
          const lags = await lagOf(groupId, [...g.topics]);
          if (groups.get(groupId) !== g) continue; // stopped meanwhile
          for (const { topic, partition, lag } of lags) {
            m.consumerLag.set({ group: groupId, topic, partition: String(partition) }, lag);
            g.series.add(JSON.stringify([topic, String(partition)]));
          }
        } catch (err) {
          options.onLagError?.(err);
        }
      }
    })().finally(() => (refreshing = null));
    return refreshing;
  };

  const track = (groupId: string, topics: string[]): (() => void) => {
    let g = groups.get(groupId);
    if (!g) groups.set(groupId, (g = { topics: new Set(), consumers: 0, series: new Set() }));
    for (const t of topics) g.topics.add(t);
    g.consumers++;
    if (!timer && bus.consumerLag) {
      timer = setInterval(() => void refreshLag(), options.lagIntervalMs ?? 15_000);
      timer.unref();
    }
    void refreshLag();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const current = groups.get(groupId);
      if (!current || --current.consumers > 0) return;
      removeSeries(groupId);
      groups.delete(groupId);
    };
  };

  return {
    kind: bus.kind,
    createTopics: (topics) => bus.createTopics(topics),
    ping: () => bus.ping(),
    ...(bus.consumerLag ? { consumerLag: bus.consumerLag.bind(bus) } : {}),

    async produce(topic, records) {
      const end = m.produceSeconds.startTimer({ topic });
      await bus.produce(topic, records);
      end();
    },

    async consume(options: ConsumeOptions): Promise<Consumer> {
      const group = options.ephemeral ? EPHEMERAL_GROUP : options.groupId;
      const handler = async (message: BusMessage): Promise<void> => {
        const labels = { group, topic: message.topic };
        m.recordAgeSeconds.observe(labels, Math.max(0, Date.now() - message.timestamp) / 1000);
        const end = m.handleSeconds.startTimer(labels);
        try {
          await options.handler(message);
        } catch (err) {
          if (!isHandleLater(err)) m.handlerErrors.inc(labels);
          throw err;
        } finally {
          end();
        }
      };
      const consumer = await bus.consume({ ...options, handler });
      const untrack = options.ephemeral ? () => {} : track(options.groupId, options.topics);
      return {
        async stop() {
          try {
            await consumer.stop();
          } finally {
            untrack();
          }
        },
        pause: () => consumer.pause(),
        resume: () => consumer.resume(),
        assignment: () => consumer.assignment(),
      };
    },

    async close() {
      clearInterval(timer);
      timer = undefined;
      await refreshing;
      try {
        await bus.close();
      } finally {
        for (const groupId of [...groups.keys()]) removeSeries(groupId);
        groups.clear();
      }
    },
  };
}
