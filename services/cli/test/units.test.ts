import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DataDirLocked, acquireDataDirLock, formatSize, parseSize, readDataDirLock } from "../src/index.ts";

test("sizes: binary units, unlimited", () => {
  assert.equal(parseSize("1G"), 2 ** 30);
  assert.equal(parseSize("500M"), 500 * 2 ** 20);
  assert.equal(parseSize("1.5gib"), 1.5 * 2 ** 30);
  assert.equal(parseSize("2048"), 2048);
  assert.equal(parseSize("10KB"), 10240);
  assert.equal(parseSize("unlimited"), null);
  assert.equal(parseSize("none"), null);
  for (const bad of ["", "G", "-1G", "1X", "1 2"]) assert.throws(() => parseSize(bad), /is not a size/, bad);
  assert.equal(formatSize(null), "unlimited");
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(2 ** 30), "1 GiB");
  assert.equal(formatSize(1.5 * 2 ** 20), "1.5 MiB");
});

test("data directory lock: exclusive, names its holder, stale locks are taken over, released", () => {
  const dir = mkdtempSync(join(tmpdir(), "postline-lock-"));
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
    assert.equal(existsSync(join(dir, "db.lock")), false);
    assert.equal(readDataDirLock(dir), null);

    // A lock left behind by a process that no longer exists.
    writeFileSync(join(dir, "db.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: hostname(), startedAt: "2020-01-01T00:00:00Z" }));
    assert.equal(readDataDirLock(dir), null);
    const taken = acquireDataDirLock(dir);
    assert.equal(JSON.parse(readFileSync(join(dir, "db.lock"), "utf8")).pid, process.pid);
    taken.release();

    // Our own pid in a lock we do not hold: an earlier process with the same pid (pid 1 in a restarted container).
    writeFileSync(join(dir, "db.lock"), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: "2020-01-01T00:00:00Z" }));
    const again = acquireDataDirLock(dir);
    assert.notEqual(JSON.parse(readFileSync(join(dir, "db.lock"), "utf8")).startedAt, "2020-01-01T00:00:00Z");
    again.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
