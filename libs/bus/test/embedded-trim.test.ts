import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Db } from "@postline/db";
import { createPgliteDatabase, uniqueName } from "@postline/testkit";
import { EmbeddedBus } from "../src/index.ts";
import { waitUntil } from "./harness.ts";
import { EMBEDDED_TEST_OPTIONS } from "./test-options.ts";

let db: Db;
before(async () => {
  db = await createPgliteDatabase();
});
after(() => db.close());

test("trim() deletes only records every consuming group has committed", async () => {
  const bus = new EmbeddedBus({ db, ...EMBEDDED_TEST_OPTIONS });
  try {
    const topic = uniqueName("topic");
    const untouched = uniqueName("topic");
    await bus.createTopics([
      { name: topic, partitions: 1 },
      { name: untouched, partitions: 1 },
    ]);
    await bus.produce(topic, ["a", "b", "c", "d"].map((value) => ({ key: "k", value })));
    await bus.produce(untouched, [{ key: "k", value: "x" }]);
    assert.equal(await bus.trim(), 0, "nothing is trimmed before a group committed");

    const fast: string[] = [];
    const fastGroup = await bus.consume({ groupId: uniqueName("fast"), topics: [topic], handler: async (m) => void fast.push(m.value.toString()) });
    await waitUntil(() => fast.length === 4, "the fast group consumed everything");
    await fastGroup.stop();
    let slowSeen = 0;
    const slowGroup = await bus.consume({
      groupId: uniqueName("slow"),
      topics: [topic],
      handler: async () => {
        if (++slowSeen > 2) throw new Error("stuck after two");
      },
    });
    await waitUntil(() => slowSeen > 2, "the slow group is stuck at c");
    await slowGroup.stop();

    assert.equal(await bus.trim(), 2, "a and b are behind every group");
    const left = await db.query<{ offset: number }>(`SELECT "offset" FROM bus_records WHERE topic = $1 ORDER BY "offset"`, [topic]);
    assert.deepEqual(left.rows.map((r) => Number(r.offset)), [2, 3]);
    const other = await db.query(`SELECT 1 FROM bus_records WHERE topic = $1`, [untouched]);
    assert.equal(other.rowCount, 1);

    // Offsets stay dense after a trim: the next record continues the sequence.
    await bus.produce(topic, [{ key: "k", value: "e" }]);
    const last = await db.query<{ offset: number }>(`SELECT max("offset") AS offset FROM bus_records WHERE topic = $1`, [topic]);
    assert.equal(Number(last.rows[0]!.offset), 4);
  } finally {
    await bus.close();
  }
});

test("produce to an unknown topic fails clearly", async () => {
  const bus = new EmbeddedBus({ db, ...EMBEDDED_TEST_OPTIONS });
  try {
    await assert.rejects(bus.produce(uniqueName("nope"), [{ key: "k", value: "v" }]), /unknown topic/);
    await assert.rejects(bus.createTopics([{ name: "bad name!", partitions: 1 }]), /invalid topic name/);
  } finally {
    await bus.close();
  }
});
