import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Commands counted by name; anything else is "other", so a client cannot blow up label cardinality. */
const KNOWN_COMMANDS = new Set(["EHLO", "HELO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "QUIT", "STARTTLS", "VRFY", "HELP", "BDAT", "AUTH"]);

export function commandLabel(line: Buffer | string): string {
  // Only the first word matters: look at no more than the longest known name (and one past it).
  const head = typeof line === "string" ? line.slice(0, 9) : line.toString("latin1", 0, Math.min(line.length, 9));
  const name = head.split(" ", 1)[0]!.trim().toUpperCase();
  return KNOWN_COMMANDS.has(name) ? name : "other";
}

/** The MX's Prometheus metrics (`postline_inbound_mx_*`). */
export interface MxMetrics {
  sessions: Counter<"result">;
  activeSessions: Gauge;
  commands: Counter<"command">;
  replies: Counter<"code">;
  recipients: Counter<"result">;
  messages: Counter<"result" | "reason">;
  bytes: Counter;
  messageSize: Histogram;
  commitSeconds: Histogram;
  sessionSymbols: Counter<"symbol">;
  tlsReloads: Counter<"result">;
  rejections: Counter<"reason">;
}

/**
 * Registers the metrics, or finds them when this registry has them already (two MX instances in one
 * process, as in tests, share them).
 */
export function mxMetrics(registry: Registry): MxMetrics {
  const get = <T>(name: string, create: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? create();
  const registers = [registry];
  return {
    sessions: get("postline_inbound_mx_sessions_total", () => new Counter({ name: "postline_inbound_mx_sessions_total", help: "SMTP sessions by how they started (accepted, refused_*)", labelNames: ["result"], registers })),
    activeSessions: get("postline_inbound_mx_sessions_active", () => new Gauge({ name: "postline_inbound_mx_sessions_active", help: "SMTP sessions open now", registers })),
    commands: get("postline_inbound_mx_commands_total", () => new Counter({ name: "postline_inbound_mx_commands_total", help: "SMTP commands received", labelNames: ["command"], registers })),
    replies: get("postline_inbound_mx_replies_total", () => new Counter({ name: "postline_inbound_mx_replies_total", help: "SMTP replies sent, by code", labelNames: ["code"], registers })),
    recipients: get("postline_inbound_mx_recipients_total", () => new Counter({ name: "postline_inbound_mx_recipients_total", help: "RCPT TO decisions", labelNames: ["result"], registers })),
    messages: get("postline_inbound_mx_messages_total", () => new Counter({ name: "postline_inbound_mx_messages_total", help: "Messages after DATA: accepted, or rejected with a reason", labelNames: ["result", "reason"], registers })),
    bytes: get("postline_inbound_mx_received_bytes_total", () => new Counter({ name: "postline_inbound_mx_received_bytes_total", help: "Bytes of accepted messages (as stored)", registers })),
    messageSize: get("postline_inbound_mx_message_size_bytes", () => new Histogram({ name: "postline_inbound_mx_message_size_bytes", help: "Size of accepted messages", buckets: [1e3, 1e4, 1e5, 1e6, 1e7, 5e7], registers })),
    commitSeconds: get("postline_inbound_mx_commit_seconds", () => new Histogram({ name: "postline_inbound_mx_commit_seconds", help: "From DATA to its reply: streaming into the blob store, then publishing", buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers })),
    sessionSymbols: get("postline_inbound_mx_session_symbols_total", () => new Counter({ name: "postline_inbound_mx_session_symbols_total", help: "Anti-spam symbols decided during SMTP sessions", labelNames: ["symbol"], registers })),
    rejections: get(
      "postline_inbound_mx_rejections_total",
      () =>
        new Counter({
          name: "postline_inbound_mx_rejections_total",
          help: "Refusals at every stage by reason: policy_<symbol> (connect, MAIL FROM), RCPT (unknown_user, relay_denied, over_quota, ...), DATA (too_large, storage_error, ...)",
          labelNames: ["reason"],
          registers,
        }),
    ),
    tlsReloads: get("postline_inbound_mx_tls_reloads_total", () => new Counter({ name: "postline_inbound_mx_tls_reloads_total", help: "Certificate reloads from the files", labelNames: ["result"], registers })),
  };
}
