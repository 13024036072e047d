import { join } from "node:path";
import type { Registry } from "prom-client";
import type { PlatformConfig } from "@postline/config";
import type { Db } from "./db.ts";
import { PgDb } from "./pg-db.ts";

export type DbConfig = { kind: "postgres"; url: string; maxConnections?: number } | { kind: "pglite"; dataDir?: string };

/**
 * `application` names the process to PostgreSQL (pg_stat_activity) and in a PGlite lock file;
 * `registry` receives the query and pool metrics (metrics.ts).
 */
export async function openDb(config: DbConfig, application = "postline", registry?: Registry): Promise<Db> {
  if (config.kind === "postgres") return new PgDb({ url: config.url, maxConnections: config.maxConnections, applicationName: application, registry });
  // Loaded only in standalone mode: cluster processes never carry the embedded database.
  const { PgliteDb } = await import("./pglite-db.ts");
  return PgliteDb.open(config.dataDir, { purpose: application, registry });
}

/** Where the metadata database is: PostgreSQL in cluster mode, PGlite under `<data dir>/db` in standalone mode. */
export function dbConfig(
  config: Pick<PlatformConfig, "POSTLINE_MODE" | "POSTLINE_DATA_DIR" | "POSTLINE_DATABASE_URL" | "POSTLINE_DATABASE_POOL">,
): DbConfig {
  if (config.POSTLINE_MODE === "cluster") {
    if (!config.POSTLINE_DATABASE_URL) throw new Error("POSTLINE_DATABASE_URL is required when POSTLINE_MODE=cluster");
    return { kind: "postgres", url: config.POSTLINE_DATABASE_URL, maxConnections: config.POSTLINE_DATABASE_POOL };
  }
  return { kind: "pglite", dataDir: join(config.POSTLINE_DATA_DIR, "db") };
}
