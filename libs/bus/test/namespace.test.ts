import { test } from "node:test";
import assert from "node:assert/strict";
import { createTestDatabase } from "@postline/testkit";
import { openBus, type BusMessage } from "../src/index.ts";
import { EMBEDDED_TEST_OPTIONS } from "./test-options.ts";

test("two namespaces on one store do not see each other's records; handlers see logical topic names", async () => {
  const t = await createTestDatabase();
  const a = openBus({ kind: "embedded", db: t.db, namespace: "install-a.", ...EMBEDDED_TEST_OPTIONS });
  const b = openBus({ kind: "embedded", db: t.db, namespace: "install-b.", ...EMBEDDED_TEST_OPTIONS });
  try {
    await a.createTopics([{ name: "mail.received", partitions: 2 }]);
    await b.createTopics([{ name: "mail.received", partitions: 2 }]);
    const seenA: BusMessage[] = [];
    const seenB: BusMessage[] = [];
    const ca = await a.consume({ groupId: "spam-filter", topics: ["mail.received"], handler: async (m) => void seenA.push(m) });
    const cb = await b.consume({ groupId: "spam-filter", topics: ["mail.received"], handler: async (m) => void seenB.push(m) });
    await a.produce("mail.received", [{ key: "k", value: "for a" }]);
    await b.produce("mail.received", [{ key: "k", value: "for b" }]);
    for (let i = 0; i < 100 && (seenA.length < 1 || seenB.length < 1); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(seenA.map((m) => [m.topic, m.value.toString()]), [["mail.received", "for a"]]);
    assert.deepEqual(seenB.map((m) => [m.topic, m.value.toString()]), [["mail.received", "for b"]]);
    const topics = (await t.db.query<{ name: string }>("SELECT name FROM bus_topics ORDER BY name")).rows.map((r) => r.name);
    assert.deepEqual(topics, ["install-a.mail.received", "install-b.mail.received"]);
    await ca.stop();
    await cb.stop();
  } finally {
    await a.close();
    await b.close();
    await t.drop();
  }
});
