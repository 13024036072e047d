import type { Db, Queryable } from "@postline/db";
import type { BackoffOptions } from "../backoff.ts";
import type { Bus, ConsumeOptions, Consumer, PartitionLag, ProduceRecord, TopicSpec } from "../bus.ts";
import { errorFields, stderrLogger, type BusLogger } from "../logger.ts";
import { EmbeddedConsumer } from "./embedded-consumer.ts";
import { notifierFor, type BusNotifier } from "./notifier.ts";
import { partitionForKey } from "./partitioner.ts";

export interface EmbeddedBusOptions {
  /** The database holding the log (migration 0002_embedded_bus). The bus does not close it. */
  db: Db;
  /** How often consumers look for records produced by other processes (default 200 ms). */
  pollIntervalMs?: number;
  /** A member that has not heartbeated for this long is dead and loses its partitions (default 10 s). */
  sessionTimeoutMs?: number;
  /** How often members heartbeat and re-check the group's assignment (default 1 s). */
  heartbeatIntervalMs?: number;
  /** Back-off between attempts of a record whose handler threw. */
  retry?: BackoffOptions;
  /** Records read from a partition per query (default 100). */
  fetchSize?: number;
  /** How often `trim()` runs on its own (default 60 s; 0 turns it off). */
  trimIntervalMs?: number;
  logger?: BusLogger;
}

const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;
const ROWS_PER_INSERT = 500;

/**
 * The bus of standalone mode: a durable, partitioned log with consumer groups in the Db
 * (PGlite or PostgreSQL), with the delivery semantics of the Kafka bus.
 */
export class EmbeddedBus implements Bus {
  readonly kind = "embedded" as const;
  readonly db: Db;
  private readonly notifier: BusNotifier;
  private readonly logger: BusLogger;
  private readonly partitionCounts = new Map<string, number>();
  private readonly consumers = new Set<EmbeddedConsumer>();
  private readonly trimTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: EmbeddedBusOptions) {
    this.db = options.db;
    this.notifier = notifierFor(options.db);
    this.logger = options.logger ?? stderrLogger;
    const trimEvery = options.trimIntervalMs ?? 60_000;
    if (trimEvery > 0) {
      this.trimTimer = setInterval(() => {
        this.trim().catch((err) => this.logger.warn(errorFields(err), "embedded bus: trim failed"));
      }, trimEvery);
      this.trimTimer.unref();
    }
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    for (const t of topics) {
      if (!TOPIC_NAME.test(t.name)) throw new Error(`invalid topic name ${JSON.stringify(t.name)}`);
      if (!Number.isInteger(t.partitions) || t.partitions < 1) throw new Error(`topic ${t.name}: partitions must be ≥ 1`);
    }
    await this.db.transaction(async (tx) => {
      for (const t of topics) {
        await tx.query("INSERT INTO bus_topics (name, partitions) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", [
          t.name,
          t.partitions,
        ]);
        // An existing topic keeps the partition count it was created with, as in Kafka.
        await tx.query(
          `INSERT INTO bus_partitions (topic, partition)
           SELECT name, generate_series(0, partitions - 1) FROM bus_topics WHERE name = $1
           ON CONFLICT (topic, partition) DO NOTHING`,
          [t.name],
        );
      }
    });
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    const partitions = await this.partitionCount(topic);
    const byPartition = new Map<number, ProduceRecord[]>();
    for (const r of records) {
      const p = partitionForKey(r.key, partitions);
      const list = byPartition.get(p) ?? [];
      list.push(r);
      byPartition.set(p, list);
    }
    const timestamp = Date.now();
    await this.db.transaction(async (tx) => {
      // Ascending partition order, so concurrent producers lock partition rows without deadlock.
      for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
        const list = byPartition.get(partition)!;
        const next = await tx.query<{ next_offset: number }>(
          "UPDATE bus_partitions SET next_offset = next_offset + $3 WHERE topic = $1 AND partition = $2 RETURNING next_offset",
          [topic, partition, list.length],
        );
        const first = Number(next.rows[0]!.next_offset) - list.length;
        await insertRecords(tx, topic, partition, first, list, timestamp);
      }
    });
    this.notifier.produced(topic);
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    if (options.topics.length === 0) throw new Error("consume: no topics");
    for (const topic of options.topics) await this.partitionCount(topic);
    const consumer = new EmbeddedConsumer({
      db: this.db,
      notifier: this.notifier,
      logger: this.logger,
      groupId: options.groupId,
      topics: [...new Set(options.topics)],
      handler: options.handler,
      fromBeginning: options.ephemeral ? false : (options.fromBeginning ?? true),
      ephemeral: options.ephemeral ?? false,
      concurrency: Math.max(1, options.partitionsConcurrently ?? 1),
      pollIntervalMs: this.options.pollIntervalMs ?? 200,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 1_000,
      retry: this.options.retry ?? {},
      fetchSize: this.options.fetchSize ?? 100,
      onStopped: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (err) {
      this.consumers.delete(consumer);
      throw err;
    }
    return consumer;
  }

  async ping(): Promise<void> {
    await this.db.query("SELECT 1 FROM bus_topics LIMIT 1");
  }

  /** The group's committed offsets (bus_group_offsets) against the partitions' ends (bus_partitions). */
  async consumerLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
    const r = await this.db.query<{ topic: string; partition: number; lag: number }>(
      `SELECT p.topic, p.partition,
              p.next_offset - coalesce(o.next_offset,
                (SELECT min(r."offset") FROM bus_records r WHERE r.topic = p.topic AND r.partition = p.partition),
                p.next_offset) AS lag
       FROM bus_partitions p
       LEFT JOIN bus_group_offsets o ON o.group_id = $1 AND o.topic = p.topic AND o.partition = p.partition
       WHERE p.topic IN (SELECT jsonb_array_elements_text($2::jsonb))
       ORDER BY p.topic, p.partition`,
      [groupId, JSON.stringify(topics)],
    );
    return r.rows.map((row) => ({ topic: row.topic, partition: Number(row.partition), lag: Math.max(0, Number(row.lag)) }));
  }

  /**
   * Deletes the records every consumer group is done with: below the lowest committed offset of
   * the groups that consume the topic. Topics no group has committed on keep everything.
   * Returns how many records it deleted.
   */
  async trim(): Promise<number> {
    const r = await this.db.query(
      `WITH groups AS (SELECT DISTINCT group_id, topic FROM bus_group_offsets),
            floors AS (
              SELECT p.topic, p.partition, min(coalesce(o.next_offset, 0)) AS floor
              FROM bus_partitions p
              JOIN groups g ON g.topic = p.topic
              LEFT JOIN bus_group_offsets o
                ON o.group_id = g.group_id AND o.topic = p.topic AND o.partition = p.partition
              GROUP BY p.topic, p.partition)
       DELETE FROM bus_records r USING floors f
       WHERE r.topic = f.topic AND r.partition = f.partition AND r."offset" < f.floor`,
    );
    return r.rowCount;
  }

  /** Stops this bus's consumers (each finishes and commits its handler in flight). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.trimTimer) clearInterval(this.trimTimer);
    await Promise.all([...this.consumers].map((c) => c.stop()));
  }

  private async partitionCount(topic: string): Promise<number> {
    const cached = this.partitionCounts.get(topic);
    if (cached !== undefined) return cached;
    const r = await this.db.query<{ partitions: number }>("SELECT partitions FROM bus_topics WHERE name = $1", [topic]);
    const count = r.rows[0]?.partitions;
    if (count === undefined) throw new Error(`unknown topic ${JSON.stringify(topic)}: create it with createTopics first`);
    this.partitionCounts.set(topic, Number(count));
    return Number(count);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("the bus is closed");
  }
}

async function insertRecords(
  tx: Queryable,
  topic: string,
  partition: number,
  firstOffset: number,
  records: ProduceRecord[],
  timestamp: number,
): Promise<void> {
  for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
    const chunk = records.slice(start, start + ROWS_PER_INSERT);
    const params: unknown[] = [topic, partition, timestamp];
    const rows = chunk.map((r, i) => {
      params.push(firstOffset + start + i, r.key, toBuffer(r.value), JSON.stringify(r.headers ?? {}));
      const n = params.length;
      return `($1, $2, $${n - 3}, $${n - 2}, $${n - 1}, $${n}::jsonb, $3)`;
    });
    await tx.query(
      `INSERT INTO bus_records (topic, partition, "offset", key, value, headers, timestamp_ms) VALUES ${rows.join(", ")}`,
      params,
    );
  }
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === "string" ? Buffer.from(value, "utf8") : value;
}
