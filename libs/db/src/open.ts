import type { Db } from "./db.ts";
import { PgDb } from "./pg-db.ts";
import { PgliteDb } from "./pglite-db.ts";

export type DbConfig = { kind: "postgres"; url: string; maxConnections?: number } | { kind: "pglite"; dataDir?: string };

export async function openDb(config: DbConfig, applicationName = "postline"): Promise<Db> {
  if (config.kind === "postgres") {
    const db = new PgDb({ url: config.url, maxConnections: config.maxConnections, applicationName });
    return db;
  }
  return PgliteDb.open(config.dataDir);
}
