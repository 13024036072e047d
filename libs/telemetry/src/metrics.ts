import { Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per process with Node's default metrics (CPU, memory, event-loop lag,
 * GC). Services register their own counters and histograms on it.
 */
let registry: Registry | undefined;

export function metricsRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: "postline_" });
  }
  return registry;
}
