import type { Registry } from "prom-client";
import type { Bus } from "./bus.ts";
import { EmbeddedBus, type EmbeddedBusOptions } from "./embedded/embedded-bus.ts";
import { KafkaBus, type KafkaBusOptions } from "./kafka/kafka-bus.ts";
import { withTracing } from "./tracing.ts";
import { withNamespace } from "./namespace.ts";
import { withMetrics, type BusMetricsOptions } from "./metrics.ts";
import { errorFields } from "./logger.ts";

export type BusConfig = (({ kind: "kafka" } & KafkaBusOptions) | ({ kind: "embedded" } & EmbeddedBusOptions)) & {
  /** Prefix of every topic and consumer group name (see withNamespace). */
  namespace?: string;
  /** Where the bus metrics go (metrics.ts); none without it. */
  registry?: Registry;
  /** How often the consumer lag is read (default 15 s). */
  lagIntervalMs?: number;
};

/** The bus of the configured mode, with trace context carried in the record headers (and metrics when given a registry). */
export function openBus(config: BusConfig): Bus {
  const { kind, namespace, registry, lagIntervalMs, ...options } = config;
  const bus = kind === "kafka" ? new KafkaBus(options as KafkaBusOptions) : new EmbeddedBus(options as EmbeddedBusOptions);
  const logger = (options as { logger?: EmbeddedBusOptions["logger"] }).logger;
  const namespaced = withNamespace(bus, namespace ?? "");
  const metricsOptions: BusMetricsOptions = {
    lagIntervalMs,
    onLagError: (err) => logger?.debug(errorFields(err), "bus: reading the consumer lag failed"),
  };
  return withTracing(registry ? withMetrics(namespaced, registry, metricsOptions) : namespaced);
}
