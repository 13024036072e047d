import type { Bus, ConsumeOptions } from "./bus.ts";

/**
 * Puts every topic and consumer group of this installation under a prefix, so several Postline
 * installations (or test runs) can share one Kafka cluster or database without seeing each
 * other's records. Handlers see the logical topic names.
 */
export function withNamespace(bus: Bus, prefix: string): Bus {
  if (!prefix) return bus;
  const physical = (topic: string) => `${prefix}${topic}`;
  const logical = (topic: string) => (topic.startsWith(prefix) ? topic.slice(prefix.length) : topic);
  return {
    kind: bus.kind,
    createTopics: (topics) => bus.createTopics(topics.map((t) => ({ ...t, name: physical(t.name) }))),
    produce: (topic, records) => bus.produce(physical(topic), records),
    consume: (options: ConsumeOptions) =>
      bus.consume({
        ...options,
        groupId: physical(options.groupId),
        topics: options.topics.map(physical),
        handler: (message) => options.handler({ ...message, topic: logical(message.topic) }),
      }),
    ping: () => bus.ping(),
    close: () => bus.close(),
    ...(bus.consumerLag
      ? {
          consumerLag: async (groupId: string, topics: string[]) =>
            (await bus.consumerLag!(physical(groupId), topics.map(physical))).map((l) => ({ ...l, topic: logical(l.topic) })),
        }
      : {}),
  };
}
