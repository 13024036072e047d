import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testKafkaBrokers, uniqueName } from "@postline/testkit";
import { KafkaBus, type Consumer } from "../src/index.ts";
import { KAFKA_TEST_OPTIONS } from "./test-options.ts";

// ConsumeOptions.gatherMs on Kafka: records that trickle in are handed over in a few full fetches.

const buses: KafkaBus[] = [];
after(async () => {
  await Promise.all(buses.map((b) => b.close()));
});

const RECORDS = 16;
const SPACING_MS = 100;

const GATHER_MS = 5_000;
const gaps = (at: number[]) => at.slice(1).map((t, i) => t - at[i]!).join(",");

/** Runs of records handled less than 50 ms apart (half the spacing): how many fetches brought them, near enough. */
function bursts(handledAt: number[]): number {
  let runs = 1;
  for (let i = 1; i < handledAt.length; i++) if (handledAt[i]! - handledAt[i - 1]! >= SPACING_MS / 2) runs++;
  return runs;
}

test("a gathering consumer gets records produced 100 ms apart in a few bursts; a plain one gets each as it comes", async () => {
  const bus = new KafkaBus({ brokers: testKafkaBrokers(), clientId: "gather-test", ...KAFKA_TEST_OPTIONS });
  buses.push(bus);
  const topic = uniqueName("gather-topic");
  await bus.createTopics([{ name: topic, partitions: 1 }]);
  const handled = { gathering: [] as number[], plain: [] as number[] };
  const consumers: Consumer[] = [];
  for (const [name, gatherMs] of [["gathering", GATHER_MS], ["plain", undefined]] as const) {
    consumers.push(
      await bus.consume({ groupId: uniqueName(`gather-${name}`), topics: [topic], fromBeginning: true, gatherMs, handler: async () => void handled[name].push(Date.now()) }),
    );
  }
  // Both members have joined and fetch: a first record reaches both before the trickle starts.
  await bus.produce(topic, [{ key: "k", value: "first" }]);
  const deadline = Date.now() + 30_000;
  while (handled.gathering.length < 1 || handled.plain.length < 1) {
    if (Date.now() > deadline) throw new Error("the first record did not reach both consumers");
    await new Promise((r) => setTimeout(r, 50));
  }
  handled.gathering.length = 0;
  handled.plain.length = 0;

  const producing = Date.now();
  for (let i = 0; i < RECORDS; i++) {
    await bus.produce(topic, [{ key: "k", value: `r${i}` }]);
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  const produced = Date.now() - producing;
  while (handled.gathering.length < RECORDS || handled.plain.length < RECORDS) {
    if (Date.now() > deadline) throw new Error(`not all handled: ${handled.gathering.length} gathered, ${handled.plain.length} plain`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(consumers.map((c) => c.stop()));

  // 1.6 s of records (more on a busy machine) under a 5 s wait: a fetch already waiting, then one per
  // 5 s of production, so two fetches unless producing took longer than the wait.
  const most = 1 + Math.ceil(produced / GATHER_MS);
  assert.ok(bursts(handled.gathering) <= most, `gathering consumer: ${bursts(handled.gathering)} bursts, at most ${most} for ${produced} ms of production; gaps ${gaps(handled.gathering)}`);
  assert.ok(bursts(handled.plain) > RECORDS / 2, `plain consumer: ${bursts(handled.plain)} bursts`);
});
