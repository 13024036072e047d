import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { loadMigrations } from "@postline/db";
import { createTestDatabase } from "@postline/testkit";

const PROCESSES = 8;

function runMigrator(url: string): Promise<{ code: number | null; applied: string[]; stderr: string }> {
  const script = `
    import { PgDb, migrate } from "@postline/db";
    const db = new PgDb({ url: process.env.DB_URL, maxConnections: 1 });
    // Start together: every child waits for the same wall-clock instant.
    await new Promise((r) => setTimeout(r, Number(process.env.START_AT) - Date.now()));
    const applied = await migrate(db);
    console.log(JSON.stringify(applied));
    await db.close();
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: import.meta.dirname,
      env: { ...process.env, DB_URL: url, START_AT: String(startAt) },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) => resolve({ code, applied: code === 0 ? JSON.parse(out.trim()) : [], stderr: err }));
  });
}

let startAt = 0;

test(`${PROCESSES} processes migrating one empty database at once apply each migration exactly once`, async () => {
  const t = await createTestDatabase({ migrated: false });
  try {
    startAt = Date.now() + 4000; // time for every child to load tsx and connect
    const results = await Promise.all(Array.from({ length: PROCESSES }, () => runMigrator(t.url)));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const applied = results.flatMap((r) => r.applied).sort();
    const expected = loadMigrations().map((m) => m.version);
    // The migrations are plain CREATE TABLEs: applying one twice would have failed a child above.
    assert.deepEqual(applied, expected, "every version applied by exactly one process");
    assert.equal(results.filter((r) => r.applied.length > 0).length, 1, "one process did all the work");
    const rows = await t.db.query<{ version: string }>("SELECT version FROM schema_migrations ORDER BY version");
    assert.deepEqual(rows.rows.map((r) => r.version), expected);
  } finally {
    await t.drop();
  }
});
