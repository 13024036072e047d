import { test } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { createTestDatabase, metricSamples, type MetricSample } from "@postline/testkit";
import { PgDb } from "../src/index.ts";
import { PgliteDb } from "../src/pglite-db.ts";

async function samples(registry: Registry, name: string): Promise<MetricSample[]> {
  const s = await metricSamples(registry, name);
  assert.ok(registry.getSingleMetric(name), `${name} is registered`);
  return s;
}

async function counts(registry: Registry): Promise<Record<string, number>> {
  const s = await samples(registry, "postline_db_query_seconds");
  return Object.fromEntries(s.filter((x) => x.metricName === "postline_db_query_seconds_count").map((x) => [String(x.labels.kind), x.value]));
}

async function pool(registry: Registry): Promise<Record<string, number>> {
  return Object.fromEntries((await samples(registry, "postline_db_pool_connections")).map((x) => [String(x.labels.state), x.value]));
}

test("PgDb: statements and transactions are timed; the pool gauge shows total, idle and waiting connections", async () => {
  const t = await createTestDatabase({ migrated: false });
  const registry = new Registry();
  const db = new PgDb({ url: t.url, maxConnections: 2, registry });
  try {
    for (let i = 0; i < 5; i++) await db.query("SELECT $1::int AS n", [i]);
    await db.transaction(async (tx) => {
      await tx.query("CREATE TABLE metrics_t (n int)");
      await tx.query("INSERT INTO metrics_t VALUES (1), (2)");
    });
    assert.deepEqual(await counts(registry), { query: 7, transaction: 1 });
    const sum = (await samples(registry, "postline_db_query_seconds")).find((x) => x.metricName === "postline_db_query_seconds_sum" && x.labels.kind === "query")!;
    assert.ok(sum.value > 0 && sum.value < 60);

    // Both connections busy in transactions, a third caller queued.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside = 0;
    const busy = [1, 2].map(() =>
      db.transaction(async (tx) => {
        await tx.query("SELECT 1");
        inside++;
        await gate;
      }),
    );
    while (inside < 2) await new Promise((r) => setTimeout(r, 10));
    const queued = db.query("SELECT count(*) AS n FROM metrics_t");
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await pool(registry), { total: 2, idle: 0, waiting: 1 });
    release();
    await Promise.all(busy);
    assert.equal((await queued).rows[0]!.n, 2);
    assert.deepEqual(await pool(registry), { total: 2, idle: 2, waiting: 0 });
  } finally {
    await db.close();
    await t.drop();
  }
  assert.deepEqual(await pool(registry), { total: 0, idle: 0, waiting: 0 }, "a closed Db leaves the gauge");
});

test("PGlite: the same query metrics; one connection", async () => {
  const registry = new Registry();
  const db = await PgliteDb.open(undefined, { registry });
  try {
    await db.query("SELECT 1");
    await db.transaction(async (tx) => {
      await tx.query("SELECT 2");
    });
    await assert.rejects(db.transaction(async (tx) => {
      await tx.query("SELECT 3");
      throw new Error("rolled back");
    }));
    assert.deepEqual(await counts(registry), { query: 3, transaction: 2 });
    assert.deepEqual(await pool(registry), { total: 1, idle: 0, waiting: 0 });
  } finally {
    await db.close();
  }
  assert.equal((await pool(registry)).total, 0);
});

test("a Db without a registry works and registers nothing", async () => {
  const db = await PgliteDb.open();
  try {
    assert.equal((await db.query<{ n: number }>("SELECT 1 AS n")).rows[0]!.n, 1);
  } finally {
    await db.close();
  }
});
