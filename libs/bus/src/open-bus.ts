import type { Bus } from "./bus.ts";
import { EmbeddedBus, type EmbeddedBusOptions } from "./embedded/embedded-bus.ts";
import { KafkaBus, type KafkaBusOptions } from "./kafka/kafka-bus.ts";
import { withTracing } from "./tracing.ts";
import { withNamespace } from "./namespace.ts";

export type BusConfig = (({ kind: "kafka" } & KafkaBusOptions) | ({ kind: "embedded" } & EmbeddedBusOptions)) & {
  /** Prefix of every topic and consumer group name (see withNamespace). */
  namespace?: string;
};

/** The bus of the configured mode, with trace context carried in the record headers. */
export function openBus(config: BusConfig): Bus {
  const { kind, namespace, ...options } = config;
  const bus = kind === "kafka" ? new KafkaBus(options as KafkaBusOptions) : new EmbeddedBus(options as EmbeddedBusOptions);
  return withTracing(withNamespace(bus, namespace ?? ""));
}
