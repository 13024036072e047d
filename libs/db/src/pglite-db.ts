import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import type { Registry } from "prom-client";
import type { Db, QueryResult, Queryable } from "./db.ts";
import { dbMetrics, timed, type DbMetrics } from "./metrics.ts";
import { acquireDataDirLock, type DataDirLock } from "./datadir-lock.ts";

/**
 * Embedded PostgreSQL (WebAssembly) for standalone mode; `dataDir` undefined keeps it in memory.
 * PGlite is single-process, so opening a directory takes its lock (DataDirLocked when another live
 * process holds it) until close.
 */
export class PgliteDb implements Db {
  readonly kind = "pglite" as const;
  private readonly metrics: DbMetrics | undefined;
  private readonly removePool: () => void = () => {};

  private constructor(
    private readonly pg: PGlite,
    readonly lock: DataDirLock | undefined,
    registry?: Registry,
  ) {
    if (registry) {
      this.metrics = dbMetrics(registry);
      // One connection, never idle from the pool's point of view: callers queue inside PGlite.
      this.removePool = this.metrics.addPool({ total: () => (this.pg.closed ? 0 : 1), idle: () => 0, waiting: () => 0 });
    }
  }

  /** `registry`: where the query metrics go (metrics.ts); none without it. */
  static async open(dataDir?: string, options: { purpose?: string; registry?: Registry } = {}): Promise<PgliteDb> {
    const lock = dataDir ? acquireDataDirLock(dataDir, { ...(options.purpose ? { purpose: options.purpose } : {}) }) : undefined;
    try {
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      const pg = await PGlite.create(dataDir ? { dataDir } : {});
      return new PgliteDb(pg, lock, options.registry);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const r = await timed(this.metrics, "query", () => this.pg.query<Row>(sql, params as unknown[], { parsers: INT8_AS_NUMBER }));
    return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const metrics = this.metrics;
    return timed(metrics, "transaction", () => this.pg.transaction(async (t) =>
      fn({
        async query<Row>(sql: string, params: readonly unknown[] = []) {
          const r = await timed(metrics, "query", () => t.query<Row>(sql, params as unknown[], { parsers: INT8_AS_NUMBER }));
          return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
        },
        async exec(sql: string) {
          await t.exec(sql);
        },
      }),
    ));
  }

  async exec(sql: string): Promise<void> {
    await this.pg.exec(sql);
  }

  async ping(): Promise<void> {
    await this.pg.query("SELECT 1");
  }

  async close(): Promise<void> {
    this.removePool();
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
