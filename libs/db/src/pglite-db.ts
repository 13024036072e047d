import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Db, QueryResult, Queryable } from "./db.ts";
import { acquireDataDirLock, type DataDirLock } from "./datadir-lock.ts";

/**
 * Embedded PostgreSQL (WebAssembly) for standalone mode; `dataDir` undefined keeps it in memory.
 * PGlite is single-process, so opening a directory takes its lock (DataDirLocked when another live
 * process holds it) until close.
 */
export class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  private constructor(
    private readonly pg: PGlite,
    readonly lock: DataDirLock | undefined,
  ) {}

  static async open(dataDir?: string, options: { purpose?: string } = {}): Promise<PgliteDb> {
    const lock = dataDir ? acquireDataDirLock(dataDir, options) : undefined;
    try {
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      const pg = await PGlite.create(dataDir ? { dataDir } : {});
      return new PgliteDb(pg, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const r = await this.pg.query<Row>(sql, params as unknown[], { parsers: INT8_AS_NUMBER });
    return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction(async (t) =>
      fn({
        async query<Row>(sql: string, params: readonly unknown[] = []) {
          const r = await t.query<Row>(sql, params as unknown[], { parsers: INT8_AS_NUMBER });
          return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
        },
        async exec(sql: string) {
          await t.exec(sql);
        },
      }),
    );
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async ping(): Promise<void> {
    await this.pg.query("SELECT 1");
  }

  async close(): Promise<void> {
    try {
      await this.pg.close();
    } finally {
      this.lock?.release();
    }
  }
}

// Match node-postgres as configured in pg-db.ts: BIGINT as a JS number rather than a string or bigint.
const INT8_OID = 20;
const INT8_AS_NUMBER = { [INT8_OID]: (v: string) => Number(v) };
