import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The submission service's Prometheus metrics (`postline_submission_*`). */
export interface SubmissionMetrics {
  replies: Counter<"code">;
  messages: Counter<"result" | "reason">;
  bytes: Counter;
  commitSeconds: Histogram;
  dkim: Counter<"result">;
  tlsReloads: Counter<"result">;
  sessions: Counter;
  activeSessions: Gauge;
  authFailures: Counter<"mechanism">;
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
    sessions: get("postline_submission_sessions_total", () => new Counter({ name: "postline_submission_sessions_total", help: "SMTP connections accepted (587 and 465)", registers })),
    activeSessions: get("postline_submission_sessions_active", () => new Gauge({ name: "postline_submission_sessions_active", help: "SMTP connections open now", registers })),
    authFailures: get(
      "postline_submission_auth_failures_total",
      () => new Counter({ name: "postline_submission_auth_failures_total", help: "Failed AUTH attempts (invalid credentials or throttled), by SASL mechanism", labelNames: ["mechanism"], registers }),
    ),
    tlsReloads: get("postline_submission_tls_reloads_total", () => new Counter({ name: "postline_submission_tls_reloads_total", help: "Certificate reloads from the files", labelNames: ["result"], registers })),
  };
}

/** The mechanism label: the SASL mechanisms smtp-server knows, anything else as "other" (bounded). */
export function mechanismLabel(method: string): string {
  const m = method.toUpperCase();
  return m === "PLAIN" || m === "LOGIN" || m === "XOAUTH2" || m === "CRAM-MD5" ? m : "other";
}
