import type { DataDirLock } from "./datadir-lock.ts";

/** What a query returns: the rows, and how many rows the statement touched. */
export interface QueryResult<Row> {
  rows: Row[];
  rowCount: number;
}

/** Anything that runs parameterised SQL: the database itself or an open transaction. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The metadata store. `pg` in cluster mode, PGlite in standalone mode; the same SQL runs on both.
 * A transaction commits when `fn` resolves and rolls back when it throws.
 */
export interface Db extends Queryable {
  readonly kind: "postgres" | "pglite";
  /** PGlite with a directory: the lock naming this process as the directory's only user. */
  readonly lock?: DataDirLock;
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers a trivial query; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
