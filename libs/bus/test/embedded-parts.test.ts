import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffDelay } from "../src/backoff.ts";
import { assignPartitions } from "../src/embedded/assignment.ts";
import { partitionForKey } from "../src/index.ts";

test("a key's partition is stable and spread evenly", () => {
  assert.equal(partitionForKey("01J0000000000000000000000A", 12), partitionForKey("01J0000000000000000000000A", 12));
  // Pinned values: changing the hash would move keys between partitions of existing logs.
  assert.deepEqual(
    ["a", "b", "mail-1", "grüße"].map((k) => partitionForKey(k, 12)),
    [4, 1, 8, 0],
  );
  const counts = new Array<number>(4).fill(0);
  for (let i = 0; i < 4000; i++) counts[partitionForKey(`key-${i}`, 4)]!++;
  for (const c of counts) assert.ok(c > 800 && c < 1200, `uneven spread ${counts.join(",")}`);
});

test("partitions are assigned round-robin over the members sorted by id", () => {
  const counts = new Map([
    ["t1", 4],
    ["t2", 2],
  ]);
  const a = assignPartitions(
    [
      { memberId: "m2", topics: ["t1", "t2"] },
      { memberId: "m1", topics: ["t1", "t2"] },
    ],
    counts,
  );
  assert.deepEqual(a.get("m1"), ["t1/0", "t1/2", "t2/0"]);
  assert.deepEqual(a.get("m2"), ["t1/1", "t1/3", "t2/1"]);
  const alone = assignPartitions([{ memberId: "m2", topics: ["t1", "t2"] }], counts);
  assert.deepEqual(alone.get("m2"), ["t1/0", "t1/1", "t1/2", "t1/3", "t2/0", "t2/1"]);
  // A member gets only partitions of the topics it subscribed to.
  const mixed = assignPartitions(
    [
      { memberId: "m1", topics: ["t1"] },
      { memberId: "m2", topics: ["t2"] },
    ],
    counts,
  );
  assert.deepEqual(mixed.get("m1"), ["t1/0", "t1/1", "t1/2", "t1/3"]);
  assert.deepEqual(mixed.get("m2"), ["t2/0", "t2/1"]);
});

test("back-off doubles up to its cap", () => {
  const d = (attempt: number) => backoffDelay(attempt, { initialMs: 100, maxMs: 1000 });
  assert.ok(d(1) >= 80 && d(1) <= 120);
  assert.ok(d(3) >= 320 && d(3) <= 480);
  assert.ok(d(20) <= 1000);
  assert.ok(backoffDelay(50) <= 30_000);
});
