import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { RecipientOutcome } from "./remote/transport/types.ts";

/** Where a recipient's copy went. */
export type DeliveryOutcome = "inbox" | "junk" | "duplicate" | "quarantined" | "remote_queued" | "failed";

export interface DeliveryMetrics {
  deliveries: Counter<"outcome">;
  latency: Histogram;
  overQuota: Counter;
  blobsCollected: Counter;
  remoteAttempts: Counter<"outcome">;
  remoteAttemptResults: Counter<"result">;
  remoteResends: Counter;
  remoteLatency: Histogram;
  notices: Counter<"action">;
  remoteQueue: Gauge<"state">;
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
    remoteAttempts: new Counter({
      name: "postline_delivery_remote_recipients_total",
      help: "Remote recipients by the outcome of an SMTP attempt: delivered, deferred (temporary failure, retried) or bounced",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    remoteAttemptResults: new Counter({
      name: "postline_delivery_remote_attempts_total",
      help: "Remote recipients by the reply class of an SMTP attempt: 2xx, 4xx, 5xx (the server's reply, or our decision of that class), connection (no usable connection or reply: DNS, refused, timeout, lost)",
      labelNames: ["result"],
      registers: [registry],
    }),
    remoteResends: new Counter({
      name: "postline_delivery_remote_resends_total",
      help: "Recipients sent again because the process that was sending them stopped mid-transaction (possible duplicates)",
      registers: [registry],
    }),
    remoteLatency: new Histogram({
      name: "postline_delivery_remote_latency_seconds",
      help: "From the message's acceptance to its acceptance by the remote MX (message age at delivery)",
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400, 432000],
      registers: [registry],
    }),
    notices: new Counter({
      name: "postline_delivery_dsn_total",
      help: "Recipients reported in delivery status notifications sent to senders, by action (failed, delayed, relayed)",
      labelNames: ["action"],
      registers: [registry],
    }),
    remoteQueue: new Gauge({
      name: "postline_delivery_queue_recipients",
      help: "Remote recipients waiting, by state (queued, deferred, in_flight), as of this process's last sweep",
      labelNames: ["state"],
      registers: [registry],
    }),
  };
}

export type AttemptResult = "2xx" | "4xx" | "5xx" | "connection";

/**
 * The result label of one recipient's attempt: the class of the SMTP reply it got; failures without a
 * reply are "connection" when their status is 4.4.x (routing, no answer, bad connection), else the
 * class of the status we decided (e.g. 5.1.10 null MX, 5.3.4 over the server's SIZE).
 */
export function attemptResult(o: RecipientOutcome): AttemptResult {
  if (o.kind === "delivered") return "2xx";
  const code = /^([245])\d\d(?:[ -]|$)/.exec(o.error.trim())?.[1];
  if (code === "2" || code === "4" || code === "5") return `${code}xx`;
  if (o.status.startsWith("4.4.")) return "connection";
  return o.status.startsWith("5") ? "5xx" : "4xx";
}
