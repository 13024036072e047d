import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testKafkaBrokers, uniqueName } from "@postline/testkit";
import { KafkaBus } from "../src/index.ts";
import { KAFKA_TEST_OPTIONS } from "./test-options.ts";

// ConsumeOptions.commitIntervalMs on Kafka: handled records' offsets committed together.

const buses: KafkaBus[] = [];
after(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

function open(): KafkaBus {
  const bus = new KafkaBus({ brokers: testKafkaBrokers(), clientId: "group-commit-test", ...KAFKA_TEST_OPTIONS });
  buses.push(bus);
  return bus;
}

async function committed(bus: KafkaBus, groupId: string, topic: string): Promise<Record<number, string>> {
  const admin = bus.kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return Object.fromEntries(t!.partitions.map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("handled offsets of every partition are committed together within the interval, and by stop()", async () => {
  const bus = open();
  const topic = uniqueName("gc-topic");
  const groupId = uniqueName("gc-group");
  await bus.createTopics([{ name: topic, partitions: 3 }]);
  await bus.produce(
    topic,
    Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })),
  );
  const got: string[] = [];
  const consumer = await bus.consume({
    groupId,
    topics: [topic],
    partitionsConcurrently: 3,
    commitIntervalMs: 300,
    handler: async (m) => {
      got.push(m.value.toString());
    },
  });
  await waitUntil(() => got.length === 9, "all nine records are handled");
  // Within the interval (and a round trip) every partition's offset is at its end.
  await waitUntil(async () => {
    const offsets = await committed(bus, groupId, topic);
    const sum = Object.values(offsets).reduce((s, o) => s + Math.max(0, Number(o)), 0);
    return sum === 9;
  }, "the group commit covers all nine");

  // A long interval: nothing is committed by the timer, stop() commits what was handled.
  await bus.produce(topic, [{ key: "k0", value: "late" }]);
  await waitUntil(() => got.includes("late"), "the late record is handled");
  await consumer.stop();
  const again = open();
  const seen: string[] = [];
  const c2 = await again.consume({ groupId, topics: [topic], commitIntervalMs: 60_000, handler: async (m) => void seen.push(m.value.toString()) });
  await again.produce(topic, [{ key: "k1", value: "after" }]);
  await waitUntil(() => seen.includes("after"), "the restarted group gets the new record");
  assert.deepEqual(seen, ["after"], "nothing handled before the stop comes again");
  await c2.stop();
  const offsets = await committed(again, groupId, topic);
  assert.equal(
    Object.values(offsets).reduce((s, o) => s + Math.max(0, Number(o)), 0),
    11,
    "stop() committed the record handled within the long interval",
  );
});
