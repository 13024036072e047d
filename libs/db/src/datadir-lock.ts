import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, resolve } from "node:path";

/**
 * PGlite is single-process: two processes opening the same database directory corrupt it.
 * Whoever opens `<dir>` first holds `<dir>.lock` beside it (standalone: `<data>/db.lock`), a JSON
 * file naming its pid (and, for the running platform, the admin API URL to use instead).
 */
export interface DataDirLockHolder {
  pid: number;
  hostname: string;
  startedAt: string;
  /** Where the holder's admin API listens, when it has one. */
  adminUrl?: string;
  /** What holds it: "standalone platform", "postline cli", … */
  purpose?: string;
}

export class DataDirLocked extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: DataDirLockHolder,
  ) {
    const via = holder.adminUrl ? ` (its admin API is at ${holder.adminUrl})` : "";
    super(
      `the data directory ${dataDir} is in use by ${holder.purpose ?? "another Postline process"} (pid ${holder.pid})${via}; ` +
        `set POSTLINE_ADMIN_URL${holder.adminUrl ? `=${holder.adminUrl}` : ""} and POSTLINE_ADMIN_TOKEN to manage it through the admin API`,
    );
    this.name = "DataDirLocked";
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Records the admin API URL in the lock file so that the CLI can point users to it. */
  setAdminUrl(url: string): void;
  /** Removes the lock file (also done automatically when the process exits). */
  release(): void;
}

// Lock files this process holds. A lock file naming our own pid that is not in here was left by an
// earlier process that had the same pid (a container restarted with the data on a volume: pid 1 again).
const heldHere = new Set<string>();

export function dataDirLockPath(dataDir: string): string {
  return `${resolve(dataDir)}.lock`;
}

/** The live process holding the lock, or null when it is free (a lock left by a dead process is free). */
export function readDataDirLock(dataDir: string): DataDirLockHolder | null {
  const path = dataDirLockPath(dataDir);
  const holder = readHolder(path);
  return holder && isAlive(holder, path) ? holder : null;
}

/** Takes the lock or throws DataDirLocked naming the live holder. Stale locks are taken over. */
export function acquireDataDirLock(dataDir: string, options: { purpose?: string; adminUrl?: string } = {}): DataDirLock {
  const path = dataDirLockPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  const holder: DataDirLockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, JSON.stringify(holder));
      } finally {
        closeSync(fd);
      }
      heldHere.add(path);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const current = readHolder(path);
      if (current && isAlive(current, path)) throw new DataDirLocked(dataDir, current);
      // A file we cannot read could be half-written by a process starting right now: retry once first.
      if (!current && attempt === 0) continue;
      if (attempt > 2) throw new Error(`cannot take the lock ${path}: it keeps coming back`);
      removeIfUnchanged(path, current);
    }
  }

  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    heldHere.delete(path);
    process.removeListener("exit", release);
    const current = readHolder(path);
    if (current && current.pid === holder.pid && current.startedAt === holder.startedAt) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", release);
  return {
    path,
    setAdminUrl(url: string) {
      holder.adminUrl = url;
      writeFileSync(path, JSON.stringify(holder));
    },
    release,
  };
}

function readHolder(path: string): DataDirLockHolder | null {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as DataDirLockHolder;
    return typeof parsed.pid === "number" ? parsed : null;
  } catch {
    return null;
  }
}

function isAlive(holder: DataDirLockHolder, path: string): boolean {
  // A lock written on another machine (a shared volume) cannot be checked: assume it is held.
  if (holder.hostname !== hostname()) return true;
  if (holder.pid === process.pid) return heldHere.has(path);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeIfUnchanged(path: string, seen: DataDirLockHolder | null): void {
  const now = readHolder(path);
  if (JSON.stringify(now) !== JSON.stringify(seen)) return;
  try {
    unlinkSync(path);
  } catch {
    // someone else removed it first
  }
}
