import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadMigrations } from "@postline/db";
import { PgliteDb } from "@postline/db/pglite";
import { verifyPassword, listAliases } from "@postline/directory";
import { json, runCli } from "./run-cli.ts";

// Standalone mode: the CLI opens PGlite under POSTLINE_DATA_DIR/db itself. Each such process
// pays PGlite's start-up, so this file keeps the number of runs small.
const dataDir = mkdtempSync(join(tmpdir(), "postline-cli-"));
const env = { POSTLINE_DATA_DIR: dataDir };
after(() => rmSync(dataDir, { recursive: true, force: true }));

test("migrate, domain add, user add with a generated password, alias add, user list; the lock is released", async () => {
  const migrated = await runCli(["migrate"], env);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(migrated.stdout, loadMigrations().map((m) => `applied ${m.version}\n`).join(""));
  assert.ok(existsSync(join(dataDir, "db")), "PGlite lives in the db subdirectory");

  const domain = await runCli(["domain", "add", "Example.COM"], env);
  assert.equal(domain.code, 0, domain.stderr);
  assert.equal(domain.stdout, "added domain example.com\n");

  const created = json<{ address: string; quotaBytes: number; password: string }>(await runCli(["--json", "user", "add", "Alice@example.com", "--quota", "1G"], env));
  assert.equal(created.address, "alice@example.com");
  assert.equal(created.quotaBytes, 2 ** 30);
  assert.match(created.password, /^[A-Za-z0-9_-]{24}$/);

  const fromStdin = await runCli(["user", "add", "bob@example.com", "--password-stdin"], env, "bobs secret password\n");
  assert.equal(fromStdin.code, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, "created bob@example.com (quota unlimited)\n");
  assert.doesNotMatch(fromStdin.stdout, /password:/, "a given password is not printed");

  const alias = await runCli(["alias", "add", "team@example.com", "bob@example.com"], env);
  assert.equal(alias.code, 0, alias.stderr);

  const list = await runCli(["user", "list"], env);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^ADDRESS\s+QUOTA\s+USED\s+STATUS\nalice@example\.com\s+1 GiB\s+0 B\s+active\nbob@example\.com\s+unlimited\s+0 B\s+active\n$/);
  assert.equal(existsSync(join(dataDir, "db.lock")), false, "the CLI releases the data directory lock");

  // What the CLI wrote is what the platform will read.
  const db = await PgliteDb.open(join(dataDir, "db"));
  try {
    assert.ok(await verifyPassword(db, "alice@example.com", created.password));
    assert.ok(await verifyPassword(db, "bob@example.com", "bobs secret password"));
    assert.deepEqual(
      (await listAliases(db)).map((a) => [a.source, a.destination]),
      [["team@example.com", "bob@example.com"]],
    );
  } finally {
    await db.close();
  }
});

test("a running platform's lock makes direct access fail with a pointer to the admin API", async () => {
  // The test runner itself plays the running platform.
  writeFileSync(
    join(dataDir, "db.lock"),
    JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), purpose: "the standalone platform", adminUrl: "http://127.0.0.1:8080" }),
  );
  try {
    const r = await runCli(["user", "list"], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.split("\n").filter(Boolean).length, 1, "one line on stderr");
    assert.match(r.stderr, /^postline: the data directory .* is in use by the standalone platform \(pid \d+\).*POSTLINE_ADMIN_URL=http:\/\/127\.0\.0\.1:8080/);
  } finally {
    rmSync(join(dataDir, "db.lock"));
  }
});
