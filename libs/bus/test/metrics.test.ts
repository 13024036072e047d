import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createPgliteDatabase, createTestDatabase, metricSamples, testKafkaBrokers, uniqueName } from "@postline/testkit";
import { openBus, type Bus, type BusConfig } from "../src/index.ts";
import { EMBEDDED_TEST_OPTIONS, KAFKA_TEST_OPTIONS } from "./test-options.ts";

const samples = metricSamples;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Produces 6 records, consumes them with a handler that first blocks (nothing committed: the lag is
 * all 6) and fails once on one record, then checks every bus metric.
 */
async function exercise(open: (registry: Registry, namespace: string) => Bus): Promise<void> {
  const registry = new Registry();
  const namespace = `${uniqueName("metrics")}.`;
  const bus = open(registry, namespace);
  const topic = "metrics.test";
  const group = "metrics-group";
  try {
    await bus.createTopics([{ name: topic, partitions: 2 }]);
    await bus.produce(topic, [0, 1, 2].map((i) => ({ key: `k${i}`, value: `v${i}` })));
    await bus.produce(topic, [3, 4, 5].map((i) => ({ key: `k${i}`, value: `v${i}` })));

    const produced = (await samples(registry, "postline_bus_produce_seconds")).find(
      (s) => s.metricName === "postline_bus_produce_seconds_count" && s.labels.topic === topic,
    );
    assert.equal(produced?.value, 2, "two produce() calls observed, under the topic without the namespace");

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handled = new Set<string>();
    let failedOnce = false;
    const consumer = await bus.consume({
      groupId: group,
      topics: [topic],
      handler: async (m) => {
        await gate;
        if (m.key === "k3" && !failedOnce) {
          failedOnce = true;
          throw new Error("first attempt fails");
        }
        handled.add(m.key!);
      },
    });

    const lagSeries = async () => (await samples(registry, "postline_bus_consumer_lag")).filter((s) => s.labels.group === group);
    const blocked = await waitFor("the lag of all 6 records while the handler blocks", async () => {
      const s = await lagSeries();
      return s.length === 2 && s.reduce((a, x) => a + x.value, 0) === 6 ? s : undefined;
    });
    assert.deepEqual(blocked.map((s) => [s.labels.topic, String(s.labels.partition)]).sort(), [
      [topic, "0"],
      [topic, "1"],
    ]);

    await new Promise((r) => setTimeout(r, 100)); // the record waiting at the gate has some age
    release();
    await waitFor("every record handled", async () => (handled.size === 6 ? true : undefined));
    const drained = await waitFor("the lag back to 0", async () => {
      const s = await lagSeries();
      return s.length === 2 && s.every((x) => x.value === 0) ? s : undefined;
    });
    assert.equal(drained.length, 2);

    const handle = await samples(registry, "postline_bus_handle_seconds");
    const handleCount = handle.find((s) => s.metricName === "postline_bus_handle_seconds_count" && s.labels.group === group && s.labels.topic === topic);
    assert.ok(handleCount && handleCount.value >= 7, `6 records + 1 failed attempt handled, got ${handleCount?.value}`);
    const handleSum = handle.find((s) => s.metricName === "postline_bus_handle_seconds_sum" && s.labels.group === group)!;
    assert.ok(handleSum.value >= 0.1, "the first handler call waited at the gate");

    const age = await samples(registry, "postline_bus_record_age_seconds");
    const ageCount = age.find((s) => s.metricName === "postline_bus_record_age_seconds_count" && s.labels.group === group && s.labels.topic === topic);
    assert.ok(ageCount && ageCount.value >= 7);
    const ageSum = age.find((s) => s.metricName === "postline_bus_record_age_seconds_sum" && s.labels.group === group)!;
    assert.ok(ageSum.value > 0 && ageSum.value < 3600, `record ages are plausible: ${ageSum.value}`);

    const errors = await samples(registry, "postline_bus_handler_errors_total");
    assert.deepEqual(
      errors.map((s) => [s.labels.group, s.labels.topic, s.value]),
      [[group, topic, 1]],
    );

    await consumer.stop();
    assert.deepEqual(await lagSeries(), [], "a group no longer consumed here leaves no lag series behind");
  } finally {
    await bus.close();
  }
}

test("embedded bus on PostgreSQL: produce, handle, age, errors and consumer lag", async () => {
  const t = await createTestDatabase();
  try {
    await exercise((registry, namespace) => openBus({ kind: "embedded", db: t.db, namespace, registry, lagIntervalMs: 100, ...EMBEDDED_TEST_OPTIONS }));
  } finally {
    await t.drop();
  }
});

test("embedded bus on PGlite: the same metrics", async () => {
  const db = await createPgliteDatabase();
  try {
    await exercise((registry, namespace) => openBus({ kind: "embedded", db, namespace, registry, lagIntervalMs: 100, ...EMBEDDED_TEST_OPTIONS }));
  } finally {
    await db.close();
  }
});

test("Kafka bus: the same metrics, the lag from the group's committed offsets", async () => {
  await exercise((registry, namespace) => {
    const config: BusConfig = { kind: "kafka", brokers: testKafkaBrokers(), clientId: "bus-metrics-test", namespace, registry, lagIntervalMs: 100, ...KAFKA_TEST_OPTIONS };
    return openBus(config);
  });
});

test("ephemeral consumers share one group label and report no lag; a bus without a registry has no metrics", async () => {
  const t = await createTestDatabase();
  const registry = new Registry();
  const bus = openBus({ kind: "embedded", db: t.db, registry, lagIntervalMs: 50, ...EMBEDDED_TEST_OPTIONS });
  const plain = openBus({ kind: "embedded", db: t.db, ...EMBEDDED_TEST_OPTIONS });
  try {
    await bus.createTopics([{ name: "eph.topic", partitions: 1 }]);
    let seen = 0;
    const c = await bus.consume({ groupId: `random-${process.pid}`, topics: ["eph.topic"], ephemeral: true, handler: async () => void seen++ });
    await plain.produce("eph.topic", [{ key: "a", value: "1" }]);
    await waitFor("the record handled", async () => (seen === 1 ? true : undefined));
    await new Promise((r) => setTimeout(r, 200));
    const handle = await samples(registry, "postline_bus_handle_seconds");
    assert.deepEqual([...new Set(handle.map((s) => s.labels.group))], ["ephemeral"]);
    assert.deepEqual(await samples(registry, "postline_bus_consumer_lag"), []);
    const produced = (await samples(registry, "postline_bus_produce_seconds")).filter((s) => s.metricName?.endsWith("_count"));
    assert.deepEqual(produced, [], "the produce went through the bus without a registry");
    await c.stop();
  } finally {
    await bus.close();
    await plain.close();
    await t.drop();
  }
});
