import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataDirLocked, acquireDataDirLock, readDataDirLock } from "@postline/db";
import { PgliteDb } from "@postline/db/pglite";

test("data directory lock: exclusive, names its holder, stale locks are taken over, released", () => {
  const parent = mkdtempSync(join(tmpdir(), "postline-lock-"));
  const dir = join(parent, "db");
  try {
    const lock = acquireDataDirLock(dir, { purpose: "the standalone platform" });
    assert.equal(readDataDirLock(dir)?.pid, process.pid);
    lock.setAdminUrl("http://127.0.0.1:8080");
    assert.equal(readDataDirLock(dir)?.adminUrl, "http://127.0.0.1:8080");
    assert.throws(
      () => acquireDataDirLock(dir),
      (err: unknown) => err instanceof DataDirLocked && /POSTLINE_ADMIN_URL=http:\/\/127\.0\.0\.1:8080/.test(err.message),
    );
    lock.release();
    assert.equal(existsSync(join(parent, "db.lock")), false);
    assert.equal(readDataDirLock(dir), null);

    // A lock left behind by a process that no longer exists.
    writeFileSync(join(parent, "db.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), startedAt: "2020-01-01T00:00:00Z" }));
    assert.equal(readDataDirLock(dir), null);
    const taken = acquireDataDirLock(dir);
    assert.equal(JSON.parse(readFileSync(join(parent, "db.lock"), "utf8")).pid, process.pid);
    taken.release();

    // Our own pid in a lock we do not hold: an earlier process with the same pid (pid 1 in a restarted container).
    writeFileSync(join(parent, "db.lock"), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: "2020-01-01T00:00:00Z" }));
    const again = acquireDataDirLock(dir);
    assert.notEqual(JSON.parse(readFileSync(join(parent, "db.lock"), "utf8")).startedAt, "2020-01-01T00:00:00Z");
    again.release();
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("a PGlite directory opened by one holder cannot be opened by another until it is closed", async () => {
  const parent = mkdtempSync(join(tmpdir(), "postline-lock-"));
  try {
    const dir = join(parent, "db");
    const first = await PgliteDb.open(dir, { purpose: "the standalone platform" });
    await assert.rejects(PgliteDb.open(dir), (err: unknown) => err instanceof DataDirLocked && /in use by the standalone platform/.test(err.message));
    await first.close();
    assert.equal(existsSync(join(parent, "db.lock")), false);
    const second = await PgliteDb.open(dir);
    await second.close();
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});
