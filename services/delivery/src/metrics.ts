import { Counter, Histogram, type Registry } from "prom-client";

/** Where a recipient's copy went. */
export type DeliveryOutcome = "inbox" | "junk" | "duplicate" | "quarantined" | "remote_queued" | "failed";

export interface DeliveryMetrics {
  deliveries: Counter<"outcome">;
  latency: Histogram;
  overQuota: Counter;
  blobsCollected: Counter;
}

export function deliveryMetrics(registry: Registry): DeliveryMetrics {
  return {
    deliveries: new Counter({
      name: "postline_delivery_deliveries_total",
      help: "Recipients handled by local delivery, by outcome",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    latency: new Histogram({
      name: "postline_delivery_latency_seconds",
      help: "From the message's acceptance (receivedAt) to its copy being stored in a mailbox",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600],
      registers: [registry],
    }),
    overQuota: new Counter({
      name: "postline_delivery_over_quota_total",
      help: "Messages stored although they took the account over its quota (it was accepted at RCPT)",
      registers: [registry],
    }),
    blobsCollected: new Counter({
      name: "postline_delivery_blobs_collected_total",
      help: "Unreferenced blobs deleted by the collector",
      registers: [registry],
    }),
  };
}
