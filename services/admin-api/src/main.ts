import { loadConfig, platformSchema, z, field } from "@postline/config";
import { migrate, openDb } from "@postline/db";
import { acquireDataDirLock, type DataDirLock } from "@postline/directory";
import { createLogger } from "@postline/telemetry";
import { buildAdminApi } from "./app.ts";
import { platformDbConfig } from "./db-config.ts";

// The admin API as its own process (a pod in cluster mode). In standalone mode the platform runs it
// in-process instead; started alone it takes the data directory's lock like any PGlite user.

const adminSchema = z.object({
  POSTLINE_ADMIN_TOKEN: z.string({ message: "is required" }).min(16, "must be at least 16 characters"),
  POSTLINE_ADMIN_HOST: z.string().default("127.0.0.1"),
  POSTLINE_ADMIN_PORT: field.port(8080),
});

const platform = loadConfig(platformSchema);
const admin = loadConfig(adminSchema);

let lock: DataDirLock | undefined;
try {
  if (platform.POSTLINE_MODE === "standalone") lock = acquireDataDirLock(platform.POSTLINE_DATA_DIR, { purpose: "the admin API" });
} catch (err) {
  process.stderr.write(`postline admin-api: ${(err as Error).message}\n`);
  process.exit(1);
}

const db = await openDb(platformDbConfig(platform), "postline-admin-api");
if (platform.POSTLINE_MIGRATE_ON_START) await migrate(db);

const logger = createLogger("admin-api", platform.POSTLINE_LOG_LEVEL);
const app = buildAdminApi({ db, token: admin.POSTLINE_ADMIN_TOKEN, logger });
const url = await app.listen({ host: admin.POSTLINE_ADMIN_HOST, port: admin.POSTLINE_ADMIN_PORT });
lock?.setAdminUrl(url);
logger.info({ url }, "admin API listening");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await app.close();
  await db.close();
  lock?.release();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
