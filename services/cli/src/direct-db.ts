import { DataDirLocked, dbConfig, migrate, openDb, type Db } from "@postline/db";
import { CliError } from "./errors.ts";
import type { CliConfig } from "./config.ts";

/**
 * Opens the configured database for direct access. In standalone mode the PGlite directory can
 * have only one user: while a running platform holds it, the CLI refuses and points at the admin API.
 */
export async function openDirectDb(config: CliConfig, options: { migrate: boolean }): Promise<Db> {
  let db: Db | undefined;
  try {
    db = await openDb(dbConfig(config), "the postline CLI");
    if (options.migrate) await migrate(db);
    return db;
  } catch (err) {
    await db?.close().catch(() => {});
    if (err instanceof DataDirLocked) throw new CliError(err.message);
    const where = config.POSTLINE_MODE === "cluster" ? "the PostgreSQL database" : `the data directory ${config.POSTLINE_DATA_DIR}`;
    throw new CliError(`cannot open ${where}: ${(err as Error).message}`);
  }
}
