import { test } from "node:test";
import assert from "node:assert/strict";
import type { TopicMessages } from "kafkajs";
import { ProduceBatcher } from "../src/kafka/produce-batcher.ts";

test("produce calls made while a request is out go together in the next one, in call order", async () => {
  const requests: TopicMessages[][] = [];
  let release!: () => void;
  const batcher = new ProduceBatcher(async (batch) => {
    requests.push(batch);
    if (requests.length === 1) await new Promise<void>((r) => (release = r));
  });
  const first = batcher.produce("a", [{ key: "k", value: "1" }]);
  const rest = [batcher.produce("a", [{ key: "k", value: "2" }]), batcher.produce("b", [{ key: "x", value: "3" }]), batcher.produce("a", [{ key: "k", value: "4" }])];
  let restDone = false;
  void Promise.all(rest).then(() => (restDone = true));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(requests.length, 1, "one request in flight");
  assert.equal(restDone, false, "no call resolves before its records were acknowledged");
  release();
  await first;
  await Promise.all(rest);
  assert.equal(requests.length, 2);
  assert.deepEqual(
    requests[1]!.map((t) => [t.topic, t.messages.map((m) => m.value)]),
    [
      ["a", ["2", "4"]],
      ["b", ["3"]],
    ],
  );
});

test("a failed request rejects exactly the calls it carried; later calls go on", async () => {
  let calls = 0;
  const batcher = new ProduceBatcher(async () => {
    calls++;
    if (calls === 1) throw new Error("broker down");
  });
  await assert.rejects(batcher.produce("a", [{ value: "1" }]), /broker down/);
  await batcher.produce("a", [{ value: "2" }]);
  assert.equal(calls, 2);
});

test("a request carries at most the configured number of records", async () => {
  const sizes: number[] = [];
  const batcher = new ProduceBatcher(async (batch) => void sizes.push(batch.reduce((n, t) => n + t.messages.length, 0)), 3);
  await Promise.all(Array.from({ length: 7 }, (_, i) => batcher.produce("a", [{ value: String(i) }])));
  assert.deepEqual(sizes, [1, 3, 3]);
});
