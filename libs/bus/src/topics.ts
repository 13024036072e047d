import type { TopicSpec } from "./bus.ts";

/** The topics of DESIGN.md "Event contracts". */
export const Topics = {
  mailReceived: "mail.received",
  mailSubmitted: "mail.submitted",
  mailClassified: "mail.classified",
  deliveryDead: "delivery.dead",
  mailboxChanged: "mailbox.changed",
} as const;

/** Retry tiers of remote delivery; a record waits on its tier's topic until `notBefore`. */
export const RetryTiers = ["1m", "5m", "30m", "2h", "6h"] as const;
export const retryTopic = (tier: (typeof RetryTiers)[number]) => `delivery.retry.${tier}`;

/**
 * Every topic with its partition count. Partitions bound how many consumers of one group can work
 * in parallel, so the count must be at least the most delivery replicas an operator will run.
 */
export function allTopics(partitions = 12): TopicSpec[] {
  return [...Object.values(Topics), ...RetryTiers.map(retryTopic)].map((name) => ({ name, partitions }));
}
