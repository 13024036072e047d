import { Counter, Gauge, type Registry } from "prom-client";

export interface Pop3Metrics {
  sessions: Counter;
  active: Gauge;
  commands: Counter<"command">;
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
  };
}
