import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface Pop3Metrics {
  sessions: Counter;
  active: Gauge;
  commands: Counter<"command">;
  commandSeconds: Histogram<"command">;
  authFailures: Counter<"reason">;
}

/** The POP3 metrics on `registry`, created once (a second listener set on the same registry shares them). */
export function pop3Metrics(registry: Registry): Pop3Metrics {
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  return {
    sessions: get("postline_pop3_sessions_total", () => new Counter({ name: "postline_pop3_sessions_total", help: "POP3 connections accepted", registers: [registry] })),
    active: get("postline_pop3_sessions_active", () => new Gauge({ name: "postline_pop3_sessions_active", help: "POP3 connections open now", registers: [registry] })),
    commands: get(
      "postline_pop3_commands_total",
      () => new Counter({ name: "postline_pop3_commands_total", help: "POP3 commands received, by command (unknown for anything else)", labelNames: ["command"], registers: [registry] }),
    ),
    commandSeconds: get(
      "postline_pop3_command_seconds",
      () =>
        new Histogram({
          name: "postline_pop3_command_seconds",
          help: "POP3 command latency, from the parsed command to the end of its reply (known commands only)",
          labelNames: ["command"],
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers: [registry],
        }),
    ),
    authFailures: get(
      "postline_pop3_auth_failures_total",
      () =>
        new Counter({
          name: "postline_pop3_auth_failures_total",
          help: "Failed POP3 logins (USER/PASS or AUTH PLAIN) by reason (invalid, throttled, disabled)",
          labelNames: ["reason"],
          registers: [registry],
        }),
    ),
  };
}
