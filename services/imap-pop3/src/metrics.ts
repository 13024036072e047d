import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** IMAP commands counted by name; anything else is "other", so a client cannot blow up label cardinality. */
const KNOWN_COMMANDS = new Set([
  "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "LOGIN", "AUTHENTICATE", "ENABLE", "ID", "NAMESPACE", "SELECT", "EXAMINE",
  "CREATE", "DELETE", "RENAME", "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE",
  "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "IDLE", "GETQUOTA", "GETQUOTAROOT", "SETQUOTA",
]);

export function commandLabel(name: string, uid = false): string {
  const n = name.toUpperCase();
  if (!KNOWN_COMMANDS.has(n)) return "other";
  return uid ? `UID ${n}` : n;
}

/** The IMAP service's Prometheus metrics (`postline_imap_*`). */
export interface ImapMetrics {
  sessions: Counter<"result">;
  activeSessions: Gauge;
  commands: Counter<"command" | "status">;
  commandSeconds: Histogram<"command">;
  authFailures: Counter<"reason">;
  tlsReloads: Counter<"result">;
}

/** Registers the metrics, or finds them when this registry has them already (two servers in one process, as in tests). */
export function imapMetrics(registry: Registry): ImapMetrics {
  const get = <T>(name: string, create: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? create();
  const registers = [registry];
  return {
    sessions: get("postline_imap_sessions_total", () => new Counter({ name: "postline_imap_sessions_total", help: "IMAP sessions by how they started (accepted, refused_per_ip, refused_total, tls_failed)", labelNames: ["result"], registers })),
    activeSessions: get("postline_imap_sessions_active", () => new Gauge({ name: "postline_imap_sessions_active", help: "IMAP sessions open now", registers })),
    commands: get("postline_imap_commands_total", () => new Counter({ name: "postline_imap_commands_total", help: "IMAP commands by name and tagged status (OK, NO, BAD)", labelNames: ["command", "status"], registers })),
    commandSeconds: get("postline_imap_command_seconds", () => new Histogram({ name: "postline_imap_command_seconds", help: "IMAP command latency, from the parsed request to the tagged reply", labelNames: ["command"], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers })),
    authFailures: get("postline_imap_auth_failures_total", () => new Counter({ name: "postline_imap_auth_failures_total", help: "Failed IMAP authentications by reason (invalid, throttled, disabled, plaintext)", labelNames: ["reason"], registers })),
    tlsReloads: get("postline_imap_tls_reloads_total", () => new Counter({ name: "postline_imap_tls_reloads_total", help: "Certificate reloads from the files", labelNames: ["result"], registers })),
  };
}
