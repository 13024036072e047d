import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import { context, trace, TraceFlags } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { uniqueName } from "@postline/testkit";
import { HandleLater, type Bus, type BusMessage, type Consumer, type Handler } from "../src/index.ts";
import { BusChild, sleep, waitUntil, type BusHarness, type ChildEvent } from "./harness.ts";
import { recordedLogs } from "./test-options.ts";

// Trace context follows async calls only with a context manager; the telemetry SDK registers
// one in the services, here the test does.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** The behaviour every Bus implementation promises (libs/bus/src/bus.ts). */
export function busContract(h: BusHarness): void {
  describe(`Bus contract: ${h.name}`, { timeout: 120_000 }, () => {
    before(() => h.setup());
    after(() => h.teardown());
    afterEach(() => h.closeAll());

    const names = () => ({ topic: uniqueName("topic"), groupId: uniqueName("group") });

    /** Collects what a consumer's handler got. */
    function collector(onMessage?: Handler) {
      const got: BusMessage[] = [];
      const handler: Handler = async (m) => {
        if (onMessage) await onMessage(m);
        got.push(m);
      };
      return { got, handler, values: () => got.map((m) => m.value.toString()) };
    }

    async function consumeAll(bus: Bus, topic: string, groupId: string, handler: Handler, partitions: number): Promise<Consumer> {
      const consumer = await bus.consume({ groupId, topics: [topic], handler });
      await waitUntil(() => (consumer.assignment()[topic]?.length ?? 0) === partitions, "the consumer owns every partition");
      return consumer;
    }

    test("a produced record arrives with its key, headers, binary value and position", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 3 }]);
      const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const before = Date.now();
      await bus.produce(topic, [{ key: "msg-1", value, headers: { "content-type": "application/octet-stream", "x-id": "é1" } }]);
      const c = collector();
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 1, "the record arrives");
      const m = c.got[0]!;
      assert.equal(m.topic, topic);
      assert.equal(m.key, "msg-1");
      assert.ok(Buffer.isBuffer(m.value));
      assert.deepEqual(m.value, value);
      assert.equal(m.headers["content-type"], "application/octet-stream");
      assert.equal(m.headers["x-id"], "é1");
      assert.ok(m.partition >= 0 && m.partition < 3);
      assert.equal(m.offset, "0");
      assert.ok(m.timestamp >= before - 1000 && m.timestamp <= Date.now() + 1000, `timestamp ${m.timestamp}`);
      // A string value arrives as its UTF-8 bytes.
      await bus.produce(topic, [{ key: "msg-1", value: "grüße" }]);
      await waitUntil(() => c.got.length === 2, "the string record arrives");
      assert.equal(c.got[1]!.value.toString("utf8"), "grüße");
      assert.equal(c.got[1]!.partition, m.partition, "one key, one partition");
      assert.equal(c.got[1]!.offset, "1");
    });

    test("records of one key arrive in the order they were produced", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 3 }]);
      const keys = Array.from({ length: 8 }, (_, i) => `key-${i}`);
      const perKey = 40;
      for (let round = 0; round < perKey; round += 4) {
        const batch = [];
        for (let seq = round; seq < round + 4; seq++) for (const key of keys) batch.push({ key, value: `${key}:${seq}` });
        await bus.produce(topic, batch);
      }
      const c = collector();
      await bus.consume({ groupId, topics: [topic], handler: c.handler, partitionsConcurrently: 3 });
      await waitUntil(() => c.got.length >= keys.length * perKey, "every record arrives");
      for (const key of keys) {
        const seqs = c.got.filter((m) => m.key === key).map((m) => Number(m.value.toString().split(":")[1]));
        assert.deepEqual(seqs, Array.from({ length: perKey }, (_, i) => i), `order of ${key}`);
      }
      const partitionsSeen = new Set(c.got.map((m) => m.partition));
      assert.ok(partitionsSeen.size > 1, "keys spread over partitions");
    });

    test("partitionsConcurrently bounds how many partitions are handled at once", async () => {
      const bus = await h.open();
      const { topic } = names();
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      await bus.produce(topic, Array.from({ length: 32 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` })));
      for (const concurrency of [1, 2]) {
        let inFlight = 0;
        let most = 0;
        let done = 0;
        const consumer = await bus.consume({
          groupId: uniqueName("group"),
          topics: [topic],
          partitionsConcurrently: concurrency,
          handler: async () => {
            most = Math.max(most, ++inFlight);
            await sleep(15);
            inFlight--;
            done++;
          },
        });
        await waitUntil(() => done === 32, `every record is handled (concurrency ${concurrency})`);
        await consumer.stop();
        assert.equal(most, concurrency, `handlers in flight at once with partitionsConcurrently ${concurrency}`);
      }
    });

    test("a handler that throws gets the same record again, and the partition waits for it", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["r0", "r1", "r2"].map((value) => ({ key: "k", value })));
      let failures = 0;
      const c = collector(async (m) => {
        if (m.value.toString() === "r1" && failures < 3) {
          failures++;
          throw new Error("transient failure");
        }
      });
      const attempts: string[] = [];
      await bus.consume({
        groupId,
        topics: [topic],
        handler: async (m) => {
          attempts.push(`${m.value.toString()}@${m.offset}`);
          await c.handler(m);
        },
      });
      await waitUntil(() => c.got.length === 3, "all three records are handled");
      assert.deepEqual(attempts, ["r0@0", "r1@1", "r1@1", "r1@1", "r1@1", "r2@2"]);
      assert.deepEqual(c.values(), ["r0", "r1", "r2"]);
    });

    test("a failing record holds up only its own partition", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      await bus.produce(topic, Array.from({ length: 24 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` })));
      let stuck: { partition: number; offset: string } | null = null;
      let otherWhileStuck = 0;
      let failures = 0;
      const c = collector(async (m) => {
        stuck ??= { partition: m.partition, offset: m.offset };
        if (m.partition === stuck.partition && m.offset === stuck.offset) {
          if (otherWhileStuck === 0 && failures < 40) {
            failures++;
            throw new Error("stuck");
          }
        } else if (m.partition !== stuck.partition && c.got.every((g) => g.partition !== stuck!.partition)) {
          otherWhileStuck++;
        }
      });
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 24, "every record is handled");
      assert.ok(failures >= 1, "the first record failed");
      assert.ok(otherWhileStuck > 0, "the other partition went on while the first was stuck");
    });

    test("HandleLater: the record comes again once due, then the partition goes on in order", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["r0", "r1", "r2"].map((value) => ({ key: "k", value })));
      let dueAt = 0;
      const handedAt: number[] = [];
      const attempts: string[] = [];
      const c = collector(async (m) => {
        attempts.push(`${m.value.toString()}@${m.offset}`);
        if (m.value.toString() === "r0") {
          handedAt.push(Date.now());
          if (dueAt === 0) {
            dueAt = Date.now() + 1500;
            throw new HandleLater(dueAt);
          }
        }
      });
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 3, "all three records are handled");
      assert.deepEqual(attempts, ["r0@0", "r0@0", "r1@1", "r2@2"]);
      assert.deepEqual(c.values(), ["r0", "r1", "r2"]);
      assert.ok(handedAt[1]! >= dueAt, `handed over again ${dueAt - handedAt[1]!} ms before it was due`);
    });

    test("HandleLater: while one partition waits, the others are handled", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      await bus.produce(topic, Array.from({ length: 24 }, (_, i) => ({ key: `key-${i}`, value: `v${i}` })));
      let waiting: { partition: number; offset: string } | null = null;
      let dueAt = 0;
      let otherWhileWaiting = 0;
      let handedAgainAt = 0;
      const order: BusMessage[] = [];
      const c = collector(async (m) => {
        order.push(m);
        if (!waiting) {
          waiting = { partition: m.partition, offset: m.offset };
          dueAt = Date.now() + 3000;
          throw new HandleLater(dueAt);
        }
        if (m.partition === waiting.partition && m.offset === waiting.offset) handedAgainAt = Date.now();
        else if (m.partition !== waiting.partition && handedAgainAt === 0) otherWhileWaiting++;
      });
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 24, "every record is handled");
      const w = waiting!;
      assert.ok(otherWhileWaiting > 0, "the other partition went on while the first waited");
      assert.ok(handedAgainAt >= dueAt, "the waiting record came again only when due");
      const own = order.filter((m) => m.partition === w.partition).map((m) => Number(m.offset));
      const first = Number(w.offset);
      assert.deepEqual(
        own,
        [first, ...Array.from({ length: own.length - 1 }, (_, i) => first + i)],
        "the waiting partition handed nothing else over meanwhile, then went on in order",
      );
      assert.equal(new Set(c.got.map((m) => `${m.partition}/${m.offset}`)).size, 24, "each record handled once");
    });

    test("HandleLater is not a failure: no warning, and the back-off does not grow", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["later", "after"].map((value) => ({ key: "k", value })));
      let laters = 0;
      let failed = false;
      const c = collector(async (m) => {
        if (m.value.toString() !== "later") return;
        if (laters < 3) {
          laters++;
          throw new HandleLater(Date.now() + 200);
        }
        if (!failed) {
          failed = true;
          throw new Error("a real failure after waiting");
        }
      });
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 2, "both records are handled");
      assert.deepEqual(c.values(), ["later", "after"]);
      assert.equal(laters, 3);
      const ours = recordedLogs.filter((l) => l.fields.topic === topic && l.level !== "debug");
      assert.equal(ours.length, 1, `one warning, for the real failure only: ${JSON.stringify(ours)}`);
      assert.equal(ours[0]!.level, "warn");
      assert.equal(ours[0]!.fields.attempt, 1, "the waits were not counted as failed attempts");
    });

    test("HandleLater: a paused consumer stays paused past the due time, and resume() hands the record over", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["due", "next"].map((value) => ({ key: "k", value })));
      let asked = 0;
      const c = collector(async (m) => {
        if (m.value.toString() === "due" && asked++ === 0) throw new HandleLater(Date.now() + 500);
      });
      const consumer = await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => asked === 1, "the record is handed over a first time");
      consumer.pause();
      await sleep(1500);
      assert.equal(asked, 1, "nothing is handed over while paused, even once due");
      assert.deepEqual(c.values(), []);
      consumer.resume();
      await waitUntil(() => c.got.length === 2, "both records arrive after resume");
      assert.deepEqual(c.values(), ["due", "next"]);
    });

    test("the group resumes after the last committed record when a consumer restarts", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["a", "b"].map((value) => ({ key: "k", value })));
      const first = collector();
      const c1 = await bus.consume({ groupId, topics: [topic], handler: first.handler });
      await waitUntil(() => first.got.length === 2, "a and b arrive");
      await c1.stop();
      await bus.produce(topic, [{ key: "k", value: "c" }]);
      const second = collector();
      await bus.consume({ groupId, topics: [topic], handler: second.handler });
      await waitUntil(() => second.got.length === 1, "c arrives");
      await sleep(300);
      assert.deepEqual(second.values(), ["c"]);
    });

    test("fromBeginning: false skips what was there before the group started", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, [{ key: "k", value: "old" }]);
      const c = collector();
      const consumer = await bus.consume({ groupId, topics: [topic], handler: c.handler, fromBeginning: false });
      await waitUntil(() => (consumer.assignment()[topic]?.length ?? 0) === 1, "assigned");
      await sleep(500);
      await bus.produce(topic, [{ key: "k", value: "new" }]);
      await waitUntil(() => c.got.length === 1, "the new record arrives");
      await sleep(200);
      assert.deepEqual(c.values(), ["new"]);
    });

    test("ephemeral: a listener starts at the newest record and leaves no position behind", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, [{ key: "k", value: "before" }]);
      const first = collector();
      const l1 = await bus.consume({ groupId, topics: [topic], handler: first.handler, ephemeral: true });
      await waitUntil(() => (l1.assignment()[topic]?.length ?? 0) === 1, "assigned");
      await sleep(500);
      await bus.produce(topic, [{ key: "k", value: "while listening" }]);
      await waitUntil(() => first.got.length === 1, "the new record arrives");
      await l1.stop();
      // A committing group would resume here and get this record; a listener never will.
      await bus.produce(topic, [{ key: "k", value: "while away" }]);
      const second = collector();
      const l2 = await bus.consume({ groupId, topics: [topic], handler: second.handler, ephemeral: true });
      await waitUntil(() => (l2.assignment()[topic]?.length ?? 0) === 1, "assigned again");
      await sleep(500);
      await bus.produce(topic, [{ key: "k", value: "after" }]);
      await waitUntil(() => second.got.length === 1, "the newest record arrives");
      await sleep(200);
      assert.deepEqual(first.values(), ["while listening"]);
      assert.deepEqual(second.values(), ["after"]);
    });

    test("stop() lets the handler in flight finish and commits it", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["slow", "next"].map((value) => ({ key: "k", value })));
      let entered!: () => void;
      let release!: () => void;
      const inHandler = new Promise<void>((resolve) => (entered = resolve));
      const gate = new Promise<void>((resolve) => (release = resolve));
      let finished = false;
      const c1 = await bus.consume({
        groupId,
        topics: [topic],
        handler: async (m) => {
          if (m.value.toString() !== "slow") throw new Error("a stopping consumer must not take the next record");
          entered();
          await gate;
          finished = true;
        },
      });
      await inHandler;
      const stopping = c1.stop();
      await sleep(100);
      release();
      await stopping;
      assert.ok(finished, "stop waited for the handler");
      const after = collector();
      await bus.consume({ groupId, topics: [topic], handler: after.handler });
      await waitUntil(() => after.got.length >= 1, "the next member gets the rest");
      await sleep(200);
      assert.deepEqual(after.values(), ["next"], "the slow record was committed by stop()");
    });

    test("pause() holds records back until resume()", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      const c = collector();
      const consumer = await consumeAll(bus, topic, groupId, c.handler, 2);
      await bus.produce(topic, [{ key: "a", value: "before" }]);
      await waitUntil(() => c.got.length === 1, "the first record arrives");
      consumer.pause();
      await bus.produce(topic, ["p1", "p2", "p3"].map((value, i) => ({ key: `k${i}`, value })));
      await sleep(1000);
      assert.deepEqual(c.values(), ["before"], "nothing arrives while paused");
      consumer.resume();
      await waitUntil(() => c.got.length === 4, "the held records arrive after resume");
      assert.deepEqual(c.values().slice(1).sort(), ["p1", "p2", "p3"]);
    });

    test("createTopics is idempotent", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      const other = uniqueName("topic");
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      await bus.createTopics([{ name: topic, partitions: 2 }]);
      await bus.createTopics([
        { name: topic, partitions: 2 },
        { name: other, partitions: 1 },
      ]);
      await bus.produce(topic, [{ key: "x", value: "1" }]);
      await bus.produce(other, [{ key: "x", value: "2" }]);
      const c = collector();
      await bus.consume({ groupId, topics: [topic, other], handler: c.handler });
      await waitUntil(() => c.got.length === 2, "both records arrive");
      assert.deepEqual(c.values().sort(), ["1", "2"]);
      await bus.ping();
    });

    test("trace context travels from produce to the handler in the traceparent header", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const parent = trace.setSpanContext(context.active(), {
        traceId,
        spanId: "00f067aa0ba902b7",
        traceFlags: TraceFlags.SAMPLED,
        isRemote: false,
      });
      await context.with(parent, () => bus.produce(topic, [{ key: "k", value: "traced", headers: { other: "kept" } }]));
      let seenTraceId: string | undefined;
      const c = collector(async () => {
        seenTraceId = trace.getSpanContext(context.active())?.traceId;
      });
      await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 1, "the record arrives");
      const headers = c.got[0]!.headers;
      assert.match(headers.traceparent ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      assert.equal(headers.other, "kept");
      assert.equal(seenTraceId, traceId, "the handler runs in the producer's trace");
    });

    test("two members of a group split the partitions; the survivor takes over when one stops", async () => {
      const { topic, groupId } = names();
      const partitions = 4;
      const bus1 = await h.open();
      const bus2 = await h.open();
      await bus1.createTopics([{ name: topic, partitions }]);
      const c1 = collector();
      const c2 = collector();
      const m1 = await bus1.consume({ groupId, topics: [topic], handler: c1.handler });
      await waitUntil(() => (m1.assignment()[topic]?.length ?? 0) === partitions, "the first member owns everything");
      const m2 = await bus2.consume({ groupId, topics: [topic], handler: c2.handler });
      await waitUntil(() => {
        const a = m1.assignment()[topic] ?? [];
        const b = m2.assignment()[topic] ?? [];
        return a.length > 0 && b.length > 0 && a.length + b.length === partitions;
      }, "both members own partitions");
      const a = m1.assignment()[topic]!;
      const b = m2.assignment()[topic]!;
      assert.equal(a.filter((p) => b.includes(p)).length, 0, "disjoint");
      assert.deepEqual([...a, ...b].sort(), [0, 1, 2, 3]);

      const batch1 = Array.from({ length: 64 }, (_, i) => ({ key: `key-${i}`, value: `one-${i}` }));
      await bus1.produce(topic, batch1);
      await waitUntil(() => c1.got.length + c2.got.length >= 64, "the group consumes the first batch");
      assert.ok(c1.got.length > 0 && c2.got.length > 0, "both members worked");
      assert.ok(c1.got.every((m) => a.includes(m.partition)) && c2.got.every((m) => b.includes(m.partition)));

      await m2.stop();
      await waitUntil(() => (m1.assignment()[topic]?.length ?? 0) === partitions, "the survivor owns everything", 20_000);
      const before = c1.got.length;
      await bus1.produce(topic, Array.from({ length: 64 }, (_, i) => ({ key: `key-${i}`, value: `two-${i}` })));
      await waitUntil(() => c1.got.filter((m) => m.value.toString().startsWith("two-")).length === 64, "the survivor gets every new record");
      assert.equal(new Set(c1.got.slice(before).map((m) => m.partition)).size, partitions);
    });

    test("a produced record survives kill -9 of its producer", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await h.handOver();
      const child = new BusChild({
        config: h.childConfig(),
        mode: "produce",
        topic,
        records: ["d1", "d2", "d3"].map((value) => ({ key: "k", value })),
      });
      await child.waitFor((e) => e.event === "produced", "the produce is acknowledged");
      await child.kill9();
      await h.takeBack();
      const bus2 = await h.open();
      const c = collector();
      await bus2.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 3, "the acknowledged records are there");
      assert.deepEqual(c.values(), ["d1", "d2", "d3"]);
    });

    test("at-least-once across kill -9: the record in flight comes again, the committed one does not", async () => {
      const bus = await h.open();
      const { topic, groupId } = names();
      await bus.createTopics([{ name: topic, partitions: 1 }]);
      await bus.produce(topic, ["committed", "in-flight", "later"].map((value) => ({ key: "k", value })));
      await h.handOver();
      const child = new BusChild({ config: h.childConfig(), mode: "consume", topic, groupId, hangOn: "in-flight" });
      await child.waitFor((e) => e.event === "received" && e.value === "in-flight", "the child is handling the second record");
      // The first record's commit happened before the second was handed over.
      assert.deepEqual(
        child.events.filter((e) => e.event === "received").map((e) => e.value),
        ["committed", "in-flight"],
      );
      await child.kill9();
      await h.takeBack();
      const bus2 = await h.open();
      const c = collector();
      await bus2.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => c.got.length === 2, "the restarted consumer gets the uncommitted records", h.sessionTimeoutMs + 20_000);
      await sleep(300);
      assert.deepEqual(c.values(), ["in-flight", "later"]);
    });

    // PGlite admits one process at a time, so there is no second live member to kill.
    if (h.multiProcess) test("a member killed with kill -9 loses its partitions to the survivor", async () => {
      const { topic, groupId } = names();
      const partitions = 4;
      const bus = await h.open();
      await bus.createTopics([{ name: topic, partitions }]);
      const c = collector();
      const survivor = await bus.consume({ groupId, topics: [topic], handler: c.handler });
      await waitUntil(() => (survivor.assignment()[topic]?.length ?? 0) === partitions, "the survivor owns everything");
      const child = new BusChild({ config: h.childConfig(), mode: "consume", topic, groupId });
      const owned = (e: ChildEvent) => Object.values((e.assignment ?? {}) as Record<string, number[]>).flat().length;
      await child.waitFor((e) => e.event === "assignment" && owned(e) > 0, "the child owns partitions", 30_000);
      await waitUntil(() => (survivor.assignment()[topic]?.length ?? 0) < partitions, "the survivor gave partitions up");
      await child.kill9();
      const killedAt = Date.now();
      await waitUntil(
        () => (survivor.assignment()[topic]?.length ?? 0) === partitions,
        "the survivor takes everything over",
        h.sessionTimeoutMs + 20_000,
      );
      const takeoverMs = Date.now() - killedAt;
      assert.ok(takeoverMs < h.sessionTimeoutMs + 15_000, `takeover took ${takeoverMs} ms`);
      await bus.produce(topic, Array.from({ length: 64 }, (_, i) => ({ key: `key-${i}`, value: `after-${i}` })));
      await waitUntil(() => c.got.filter((m) => m.value.toString().startsWith("after-")).length === 64, "the survivor gets every new record");
      assert.equal(new Set(c.got.map((m) => m.partition)).size, partitions);
    });
  });
}
