export { spamFilterService, classifyAndPublish, CONSUMER_GROUP } from "./service.ts";
export { spamFilterSchema } from "./settings.ts";
export { spamFilterMetrics, type SpamFilterMetrics } from "./metrics.ts";
export { OutboundRate, outboundSymbols, type OutboundCounts, type OutboundMessage, type OutboundRateLimits } from "./outbound-rate.ts";
export { buildClassifier, type BuildClassifierOptions, type BuiltClassifier } from "./build-classifier.ts";
export { Learner, LEARNER_GROUP, startLearner, withoutDeliveryHeader, type LearnerDeps, type LearnOutcome } from "./learner.ts";
export { RecipientAccounts } from "./recipients.ts";
