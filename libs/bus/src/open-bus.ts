import type { Bus } from "./bus.ts";
import { EmbeddedBus, type EmbeddedBusOptions } from "./embedded/embedded-bus.ts";
import { KafkaBus, type KafkaBusOptions } from "./kafka/kafka-bus.ts";
import { withTracing } from "./tracing.ts";

export type BusConfig = ({ kind: "kafka" } & KafkaBusOptions) | ({ kind: "embedded" } & EmbeddedBusOptions);

/** The bus of the configured mode, with trace context carried in the record headers. */
export function openBus(config: BusConfig): Bus {
  if (config.kind === "kafka") {
    const { kind: _kind, ...options } = config;
    return withTracing(new KafkaBus(options));
  }
  const { kind: _kind, ...options } = config;
  return withTracing(new EmbeddedBus(options));
}
