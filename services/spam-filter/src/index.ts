export { spamFilterService, classifyAndPublish, CONSUMER_GROUP } from "./service.ts";
export { spamFilterSchema } from "./settings.ts";
export { spamFilterMetrics, type SpamFilterMetrics } from "./metrics.ts";
export { OutboundRate, outboundSymbols, type OutboundCounts, type OutboundMessage, type OutboundRateLimits } from "./outbound-rate.ts";
