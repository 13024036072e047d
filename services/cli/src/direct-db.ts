import { migrate, openDb, type Db } from "@postline/db";
import { platformDbConfig } from "@postline/admin-api/db-config";
import { DataDirLocked, acquireDataDirLock, type DataDirLock } from "./datadir-lock.ts";
import { CliError } from "./errors.ts";
import type { CliConfig } from "./config.ts";

export interface DirectDb {
  db: Db;
  close(): Promise<void>;
}

/**
 * Opens the configured database for direct access. In standalone mode the PGlite data directory
 * can have only one user: the CLI takes its lock and refuses, pointing at the admin API, while a
 * running platform holds it.
 */
export async function openDirectDb(config: CliConfig, options: { migrate: boolean }): Promise<DirectDb> {
  let lock: DataDirLock | undefined;
  if (config.POSTLINE_MODE === "standalone") {
    try {
      lock = acquireDataDirLock(config.POSTLINE_DATA_DIR, { purpose: "the postline CLI" });
    } catch (err) {
      if (err instanceof DataDirLocked) throw new CliError(err.message);
      throw err;
    }
  }
  let db: Db;
  try {
    db = await openDb(platformDbConfig(config), "postline-cli");
    if (options.migrate) await migrate(db);
  } catch (err) {
    lock?.release();
    const where = config.POSTLINE_MODE === "cluster" ? "the PostgreSQL database" : `the data directory ${config.POSTLINE_DATA_DIR}`;
    throw new CliError(`cannot open ${where}: ${(err as Error).message}`);
  }
  return {
    db,
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}
