import { Counter, Histogram, type Registry } from "prom-client";

/** The submission service's Prometheus metrics (`postline_submission_*`). */
export interface SubmissionMetrics {
  replies: Counter<"code">;
  messages: Counter<"result" | "reason">;
  bytes: Counter;
  commitSeconds: Histogram;
  dkim: Counter<"result">;
  tlsReloads: Counter<"result">;
}

/** Registers the metrics, or finds them when this registry has them already (two instances in one process share them). */
export function submissionMetrics(registry: Registry): SubmissionMetrics {
  const get = <T>(name: string, create: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? create();
  const registers = [registry];
  return {
    replies: get("postline_submission_replies_total", () => new Counter({ name: "postline_submission_replies_total", help: "SMTP replies sent, by code", labelNames: ["code"], registers })),
    messages: get("postline_submission_messages_total", () => new Counter({ name: "postline_submission_messages_total", help: "Messages: accepted, or rejected with a reason", labelNames: ["result", "reason"], registers })),
    bytes: get("postline_submission_bytes_total", () => new Counter({ name: "postline_submission_bytes_total", help: "Bytes of accepted messages (as stored)", registers })),
    commitSeconds: get("postline_submission_commit_seconds", () => new Histogram({ name: "postline_submission_commit_seconds", help: "From the end of DATA to its reply: checks, signing, blob store, bus", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers })),
    dkim: get("postline_submission_dkim_total", () => new Counter({ name: "postline_submission_dkim_total", help: "DKIM signing of accepted messages: signed, no_keys", labelNames: ["result"], registers })),
    tlsReloads: get("postline_submission_tls_reloads_total", () => new Counter({ name: "postline_submission_tls_reloads_total", help: "Certificate reloads from the files", labelNames: ["result"], registers })),
  };
}
