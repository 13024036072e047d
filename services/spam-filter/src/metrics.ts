import { Counter, Histogram, type Registry } from "prom-client";

export interface SpamFilterMetrics {
  verdicts: Counter<"action" | "source">;
  symbols: Counter<"symbol">;
  classifySeconds: Histogram<"source">;
  ruleErrors: Counter<"rule">;
  missingBlobs: Counter;
}

export function spamFilterMetrics(registry: Registry): SpamFilterMetrics {
  return {
    verdicts: new Counter({
      name: "postline_spam_filter_verdicts_total",
      help: "Messages classified, by action and source",
      labelNames: ["action", "source"],
      registers: [registry],
    }),
    symbols: new Counter({
      name: "postline_spam_filter_symbol_hits_total",
      help: "Rule symbol hits",
      labelNames: ["symbol"],
      registers: [registry],
    }),
    classifySeconds: new Histogram({
      name: "postline_spam_filter_classify_seconds",
      help: "Time to classify one message (blob read, authentication, rules)",
      labelNames: ["source"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    ruleErrors: new Counter({
      name: "postline_spam_filter_rule_errors_total",
      help: "Rules (or authentication) that threw; the verdict is made without them",
      labelNames: ["rule"],
      registers: [registry],
    }),
    missingBlobs: new Counter({
      name: "postline_spam_filter_missing_blobs_total",
      help: "Events skipped because their message blob does not exist",
      registers: [registry],
    }),
  };
}
