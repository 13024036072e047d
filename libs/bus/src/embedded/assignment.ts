export interface GroupMember {
  memberId: string;
  topics: string[];
}

/**
 * Spreads the partitions of the group's topics over its live members, round-robin over the
 * members sorted by id. Every member computes the same answer from the same rows, so no leader
 * is needed. Returns member id → partition keys (`topic/partition`).
 */
export function assignPartitions(members: GroupMember[], partitionCounts: Map<string, number>): Map<string, string[]> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const result = new Map<string, string[]>(sorted.map((m) => [m.memberId, []]));
  let turn = 0;
  for (const topic of [...partitionCounts.keys()].sort()) {
    const eligible = sorted.filter((m) => m.topics.includes(topic));
    if (eligible.length === 0) continue;
    const count = partitionCounts.get(topic) ?? 0;
    for (let partition = 0; partition < count; partition++) {
      const owner = eligible[turn++ % eligible.length]!;
      result.get(owner.memberId)!.push(partitionKey(topic, partition));
    }
  }
  return result;
}

export const partitionKey = (topic: string, partition: number) => `${topic}/${partition}`;
