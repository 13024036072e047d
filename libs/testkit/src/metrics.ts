import type { Registry } from "prom-client";

export interface MetricSample {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: which series (`…_bucket`, `…_sum`, `…_count`). */
  metricName?: string;
}

/** Every sample of one metric in a registry; none when it is not registered (yet). */
export async function metricSamples(registry: Registry, name: string): Promise<MetricSample[]> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return [];
  return (await metric.get()).values as MetricSample[];
}
