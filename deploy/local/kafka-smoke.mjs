// Exercises the local Kafka broker with the kafkajs client the project uses (libs/bus), so a
// broker version can be judged on what Postline needs from it. Exits non-zero on the first failure.
//   node deploy/local/kafka-smoke.mjs [brokers]      (default 127.0.0.1:59092)
import console from "node:console";
import { createRequire } from "node:module";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "../../libs/bus/package.json"));
const { Kafka, logLevel } = require("kafkajs");

const brokers = (process.argv[2] ?? process.env.POSTLINE_TEST_KAFKA_BROKERS ?? "127.0.0.1:59092").split(",");
const suffix = `${Date.now()}-${process.pid}`;
const topic = `smoke-${suffix}`;
const group = `smoke-group-${suffix}`;
const partitions = 6;

const kafka = new Kafka({ clientId: "postline-smoke", brokers, logLevel: logLevel.NOTHING, retry: { retries: 3 } });
let last = Date.now();
const step = (name) => {
  console.log(`ok  ${name} (${((Date.now() - last) / 1000).toFixed(1)}s)`);
  last = Date.now();
};

async function waitFor(what, predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function waitForAsync(what, predicate, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function produceBatch(producer, from, count) {
  const messages = [];
  for (let i = from; i < from + count; i++) {
    messages.push({ key: `k${i}`, value: `v${i}`, headers: { traceparent: `t${i}` } });
  }
  await producer.send({ topic, acks: -1, messages });
}

async function main() {
  const started = Date.now();
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: false });
  if (!created) throw new Error("createTopics returned false");
  // With KRaft the broker learns of a new topic a moment after CreateTopics returns; kafkajs'
  // own waitForLeaders only retries LEADER_NOT_AVAILABLE, not UNKNOWN_TOPIC_OR_PARTITION.
  let meta;
  await waitForAsync("topic metadata with leaders", async () => {
    try {
      meta = await admin.fetchTopicMetadata({ topics: [topic] });
    } catch (err) {
      if (err.type === "UNKNOWN_TOPIC_OR_PARTITION" || err.type === "LEADER_NOT_AVAILABLE") return false;
      throw err;
    }
    return meta.topics[0].partitions.length === partitions && meta.topics[0].partitions.every((p) => p.leader >= 0);
  });
  step(`admin createTopics + fetchTopicMetadata (${partitions} partitions)`);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await produceBatch(producer, 0, 60);
  const offsets = await admin.fetchTopicOffsets(topic);
  const total = offsets.reduce((n, p) => n + Number(p.high), 0);
  if (total !== 60) throw new Error(`expected 60 messages in topic, found ${total}`);
  step("idempotent producer, acks=all, 60 messages with headers (ListOffsets agrees)");

  // One consumer commits each message by hand; the group's stored offsets must then cover all of them.
  const seen = new Set();
  const c1 = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 500 });
  await c1.connect();
  await c1.subscribe({ topic, fromBeginning: true });
  let committed = 0;
  await c1.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      seen.add(message.value.toString());
      if (message.headers.traceparent.toString() !== `t${message.value.toString().slice(1)}`) throw new Error("header mismatch");
      await c1.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      committed++;
    },
  });
  await waitFor("60 messages consumed", () => seen.size === 60);
  await c1.disconnect();
  const groupOffsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const committedTotal = groupOffsets[0].partitions.reduce((n, p) => n + Number(p.offset), 0);
  if (committedTotal !== 60) throw new Error(`expected committed offsets to sum to 60, got ${committedTotal}`);
  step(`consumer group with manual commit (${committed} commits; OffsetFetch agrees)`);

  // Two consumers in one group: both get partitions, and after one leaves the other gets them all.
  const received = { a: new Set(), b: new Set() };
  const assigned = { a: 0, b: 0 };
  const makeConsumer = async (name) => {
    const c = kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 300, rebalanceTimeout: 10_000 });
    c.on(c.events.GROUP_JOIN, (e) => {
      assigned[name] = (e.payload.memberAssignment[topic] ?? []).length;
    });
    await c.connect();
    await c.subscribe({ topic });
    await c.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received[name].add(message.value.toString());
        await c.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
      },
    });
    return c;
  };
  const a = await makeConsumer("a");
  await waitFor("consumer a assigned all partitions", () => assigned.a === partitions);
  const b = await makeConsumer("b");
  await waitFor("rebalance splitting partitions", () => assigned.a > 0 && assigned.b > 0 && assigned.a + assigned.b === partitions);
  step(`rebalance: two consumers share the group (${assigned.a} + ${assigned.b} partitions)`);
  await produceBatch(producer, 60, 60);
  await waitFor("new messages split across both consumers", () => received.a.size + received.b.size === 60);
  if (received.a.size === 0 || received.b.size === 0) throw new Error("one consumer got nothing");
  for (const v of [...received.a, ...received.b]) if (Number(v.slice(1)) < 60) throw new Error(`redelivered committed message ${v}`);
  step(`both consumers received new messages only (${received.a.size} + ${received.b.size}), nothing committed was redelivered`);
  await b.disconnect();
  await waitFor("consumer a takes over all partitions", () => assigned.a === partitions);
  await produceBatch(producer, 120, 12);
  await waitFor("consumer a gets all later messages", () => received.a.size + received.b.size === 72);
  step("after one consumer leaves, the other gets every partition");
  await a.disconnect();

  const groups = await admin.describeGroups([group]);
  if (groups.groups[0].state !== "Empty") throw new Error(`group state ${groups.groups[0].state}`);
  await producer.disconnect();
  await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
  step("describeGroups + deleteTopics");
  console.log(`kafka smoke passed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

main().catch((err) => {
  console.error(`FAIL ${err?.stack ?? err}`);
  process.exit(1);
});
