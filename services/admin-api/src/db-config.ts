import { join } from "node:path";
import type { PlatformConfig } from "@postline/config";
import type { DbConfig } from "@postline/db";

/** Where the metadata database is: PGlite under `<data dir>/db` in standalone mode, PostgreSQL in cluster mode. */
export function platformDbConfig(config: Pick<PlatformConfig, "POSTLINE_MODE" | "POSTLINE_DATA_DIR" | "POSTLINE_DATABASE_URL" | "POSTLINE_DATABASE_POOL">): DbConfig {
  if (config.POSTLINE_MODE === "cluster") {
    if (!config.POSTLINE_DATABASE_URL) throw new Error("POSTLINE_DATABASE_URL is required when POSTLINE_MODE=cluster");
    return { kind: "postgres", url: config.POSTLINE_DATABASE_URL, maxConnections: config.POSTLINE_DATABASE_POOL };
  }
  return { kind: "pglite", dataDir: join(config.POSTLINE_DATA_DIR, "db") };
}
