import pg from "pg";
import { PgDb, migrate, type Db } from "@postline/db";
import { PgliteDb } from "@postline/db/pglite";
import { testDatabaseUrl, uniqueName } from "./infra.ts";

export interface TestDatabase {
  url: string;
  db: PgDb;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database on the test server (migrated unless `migrated: false`). */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const databaseUrl = testDatabaseUrl();
  const name = uniqueName("t").toLowerCase();
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const db = new PgDb({ url: url.toString(), maxConnections: 5 });
  if (options.migrated !== false) await migrate(db);
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: testDatabaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** An in-memory PGlite database, migrated. */
export async function createPgliteDatabase(dataDir?: string): Promise<Db> {
  const db = await PgliteDb.open(dataDir);
  await migrate(db);
  return db;
}
