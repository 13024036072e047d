import pg from "pg";
import type { Registry } from "prom-client";
import type { Db, QueryResult, Queryable } from "./db.ts";
import { dbMetrics, timed, type DbMetrics } from "./metrics.ts";

// BIGINT (int8) and NUMERIC come back as strings by default; our counters fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PgDbOptions {
  url: string;
  maxConnections?: number;
  applicationName?: string;
  /** Where the query and pool metrics go (metrics.ts); none without it. */
  registry?: Registry;
}

export class PgDb implements Db {
  readonly kind = "postgres" as const;
  readonly pool: pg.Pool;
  private readonly metrics: DbMetrics | undefined;
  private readonly removePool: () => void = () => {};

  constructor(options: PgDbOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      application_name: options.applicationName ?? "postline",
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on("error", () => {});
    if (options.registry) {
      this.metrics = dbMetrics(options.registry);
      const pool = this.pool;
      this.removePool = this.metrics.addPool({ total: () => pool.totalCount, idle: () => pool.idleCount, waiting: () => pool.waitingCount });
    }
  }

  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<Row>> {
    const r = await timed(this.metrics, "query", () => this.pool.query(sql, params as unknown[]));
    return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return timed(this.metrics, "transaction", () => this.runTransaction(fn));
  }

  private async runTransaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const metrics = this.metrics;
    const tx: Queryable = {
      async query<Row>(sql: string, params: readonly unknown[] = []) {
        const r = await timed(metrics, "query", () => client.query(sql, params as unknown[]));
        return { rows: r.rows as Row[], rowCount: r.rowCount ?? 0 };
      },
      async exec(sql: string) {
        await client.query(sql);
      },
    };
    let broken = false;
    try {
      await client.query("BEGIN");
      const result = await fn(tx);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async close(): Promise<void> {
    this.removePool();
    await this.pool.end();
  }
}
