import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadMigrations, migrate, type Db } from "@postline/db";
import { PgliteDb } from "@postline/db/pglite";
import { createTestDatabase, createPgliteDatabase, type TestDatabase } from "@postline/testkit";

/** One suite, run against both implementations: service code must not be able to tell them apart. */
function dbContract(name: string, open: () => Promise<{ db: Db; close(): Promise<void> }>) {
  describe(`Db contract: ${name}`, () => {
    let db: Db;
    let close: () => Promise<void>;
    before(async () => ({ db, close } = await open()));
    after(async () => close());

    test("migrations created the schema and recorded every version once", async () => {
      const versions = (await db.query<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version")).rows.map((r) => r.version);
      assert.deepEqual(versions, loadMigrations().map((m) => m.version));
      assert.deepEqual(await migrate(db), [], "a second run applies nothing");
      const tables = (await db.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'")).rows.map((r) => r.t);
      for (const t of ["domains", "accounts", "aliases", "mailboxes", "messages", "blobs", "deliveries", "dkim_keys"]) assert.ok(tables.includes(t), t);
    });

    test("parameters are bound, never interpolated", async () => {
      const evil = "x'); drop table domains; --";
      await db.query("INSERT INTO domains (name) VALUES ($1)", [evil]);
      const r = await db.query<{ name: string }>("SELECT name FROM domains WHERE name = $1", [evil]);
      assert.equal(r.rows[0]?.name, evil);
      assert.equal(r.rowCount, 1);
    });

    test("bigint columns come back as numbers, bytea as Buffer-like bytes, jsonb as objects", async () => {
      const r = await db.query<{ n: number; b: Uint8Array; j: { a: number[] } }>("SELECT 9007199254740991::bigint AS n, $1::bytea AS b, $2::jsonb AS j", [
        Buffer.from([0, 255, 10]),
        JSON.stringify({ a: [1, 2] }),
      ]);
      assert.equal(r.rows[0]!.n, Number.MAX_SAFE_INTEGER);
      assert.deepEqual([...r.rows[0]!.b], [0, 255, 10]);
      assert.deepEqual(r.rows[0]!.j, { a: [1, 2] });
    });

    test("a transaction commits when its function resolves", async () => {
      const id = await db.transaction(async (tx) => {
        const d = await tx.query<{ id: number }>("INSERT INTO domains (name) VALUES ('commit.test') RETURNING id");
        await tx.query("UPDATE domains SET catch_all = 'all@commit.test' WHERE id = $1", [d.rows[0]!.id]);
        return d.rows[0]!.id;
      });
      const r = await db.query<{ catch_all: string }>("SELECT catch_all FROM domains WHERE id = $1", [id]);
      assert.equal(r.rows[0]?.catch_all, "all@commit.test");
    });

    test("a transaction rolls back everything when its function throws", async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO domains (name) VALUES ('rollback.test')");
          throw new Error("boom");
        }),
        /boom/,
      );
      const r = await db.query("SELECT 1 FROM domains WHERE name = 'rollback.test'");
      assert.equal(r.rowCount, 0);
      await db.ping();
    });

    test("constraint violations surface as errors with the Postgres code", async () => {
      await db.query("INSERT INTO domains (name) VALUES ('dup.test')");
      await assert.rejects(db.query("INSERT INTO domains (name) VALUES ('dup.test')"), (e: { code?: string }) => e.code === "23505");
      await assert.rejects(db.query("INSERT INTO domains (name) VALUES ('UPPER.test')"), (e: { code?: string }) => e.code === "23514");
    });
  });
}

dbContract("PostgreSQL (pg)", async () => {
  const t: TestDatabase = await createTestDatabase();
  return { db: t.db, close: () => t.drop() };
});

dbContract("PGlite", async () => {
  const db = await createPgliteDatabase();
  return { db, close: () => db.close() };
});

test("PGlite keeps its data in a directory across reopen", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pglite-"));
  try {
    const a = await PgliteDb.open(dir);
    await migrate(a);
    await a.query("INSERT INTO domains (name) VALUES ('persist.test')");
    await a.close();
    const b = await PgliteDb.open(dir);
    assert.deepEqual(await migrate(b), []);
    assert.equal((await b.query("SELECT 1 FROM domains WHERE name = 'persist.test'")).rowCount, 1);
    await b.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
