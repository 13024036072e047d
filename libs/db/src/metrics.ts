import { Gauge, Histogram, type Registry } from "prom-client";

/** The database metrics on one registry (created once; several Db objects on one registry share them). */
export interface DbMetrics {
  querySeconds: Histogram<"kind">;
  /** Adds a connection pool to `postline_db_pool_connections` (summed over the pools); returns its removal. */
  addPool(pool: PoolCounts): () => void;
}

/** A pool as the gauge reads it at scrape time. */
export interface PoolCounts {
  total(): number;
  idle(): number;
  waiting(): number;
}

const pools = new WeakMap<Registry, Set<PoolCounts>>();

/** Sub-millisecond to ten seconds: statements are mostly a few ms. */
const QUERY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function dbMetrics(registry: Registry): DbMetrics {
  let set = pools.get(registry);
  if (!set) pools.set(registry, (set = new Set()));
  const registered = set;
  const get = <T>(name: string, make: () => T): T => (registry.getSingleMetric(name) as T | undefined) ?? make();
  const querySeconds = get(
    "postline_db_query_seconds",
    () =>
      new Histogram({
        name: "postline_db_query_seconds",
        help: "Database round trips: kind=query for each statement (inside transactions too), kind=transaction for a whole transaction",
        labelNames: ["kind"],
        buckets: QUERY_BUCKETS,
        registers: [registry],
      }),
  );
  get(
    "postline_db_pool_connections",
    () =>
      new Gauge({
        name: "postline_db_pool_connections",
        help: "Database connections by state: total (open), idle, waiting (callers queued for a connection); PGlite is one connection",
        labelNames: ["state"],
        registers: [registry],
        collect() {
          let total = 0;
          let idle = 0;
          let waiting = 0;
          for (const p of registered) {
            total += p.total();
            idle += p.idle();
            waiting += p.waiting();
          }
          this.set({ state: "total" }, total);
          this.set({ state: "idle" }, idle);
          this.set({ state: "waiting" }, waiting);
        },
      }),
  );
  return {
    querySeconds,
    addPool(pool) {
      registered.add(pool);
      return () => void registered.delete(pool);
    },
  };
}

/** Runs `fn`, observing its duration under `kind` when there are metrics. */
export async function timed<T>(metrics: DbMetrics | undefined, kind: "query" | "transaction", fn: () => Promise<T>): Promise<T> {
  if (!metrics) return fn();
  const end = metrics.querySeconds.startTimer({ kind });
  try {
    return await fn();
  } finally {
    end();
  }
}
