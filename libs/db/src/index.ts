export type { Db, Queryable, QueryResult } from "./db.ts";
export { PgDb, type PgDbOptions } from "./pg-db.ts";
export { migrate, loadMigrations, type Migration } from "./migrate.ts";
export { openDb, dbConfig, type DbConfig } from "./open.ts";
export { acquireDataDirLock, readDataDirLock, dataDirLockPath, DataDirLocked, type DataDirLock, type DataDirLockHolder } from "./datadir-lock.ts";
export { dbMetrics, type DbMetrics, type PoolCounts } from "./metrics.ts";
