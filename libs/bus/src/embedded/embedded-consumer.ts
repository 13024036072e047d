import { ulid } from "ulid";
import type { Db } from "@postline/db";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import type { BusMessage, Consumer, Handler } from "../bus.ts";
import { callAt, isHandleLater } from "../handle-later.ts";
import { errorFields, type BusLogger } from "../logger.ts";
import { assignPartitions, partitionKey, type GroupMember } from "./assignment.ts";
import type { BusNotifier } from "./notifier.ts";

export interface EmbeddedConsumerOptions {
  db: Db;
  notifier: BusNotifier;
  logger: BusLogger;
  groupId: string;
  topics: string[];
  handler: Handler;
  fromBeginning: boolean;
  /** Positions only in memory (ConsumeOptions.ephemeral): nothing in bus_group_offsets, so trim() is not held back. */
  ephemeral: boolean;
  concurrency: number;
  pollIntervalMs: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  retry: BackoffOptions;
  fetchSize: number;
  onStopped(consumer: EmbeddedConsumer): void;
}

/** A partition this member holds the claim for. */
interface OwnedPartition {
  key: string;
  topic: string;
  partition: number;
  /** The offset of the next record to hand to the handler. */
  position: number;
  /** A batch of this partition is being worked on; `run` settles when it is done. */
  run: Promise<void> | null;
  /** Failed attempts of the record at `position`; 0 when it has not failed. */
  attempts: number;
  /** No batch starts before this time (a back-off, or a HandleLater of the record at `position`). */
  retryAt: number;
  /** To be given up: no new batch starts, the claim is released once `run` settles. */
  revoked: boolean;
}

interface RecordRow {
  offset: number;
  key: string | null;
  value: Uint8Array;
  headers: Record<string, string> | string;
  timestamp_ms: number;
}

/**
 * A member of a consumer group of the embedded bus.
 *
 * Membership: a row in bus_group_members, heartbeated; expired rows are deleted by any member.
 * Every member computes the same round-robin assignment from the live rows and claims its
 * partitions in bus_group_claims (a partition is worked on only by its claim holder, and a
 * holder releases a partition only after its batch in flight is done), so two members do not
 * process one partition at once. Commits are fenced by the claim.
 */
export class EmbeddedConsumer implements Consumer {
  readonly memberId = ulid();
  private readonly owned = new Map<string, OwnedPartition>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly timers: NodeJS.Timeout[] = [];
  /** Wake-ups for partitions waiting for a HandleLater ("topic/partition" → cancel). */
  private readonly wakeUps = new Map<string, () => void>();
  private paused = false;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private activeRuns = 0;
  private nextStart = 0;
  private polling = false;
  private pollAgain = false;
  private rebalancing: Promise<void> | null = null;
  private rebalanceAgain = false;

  constructor(private readonly o: EmbeddedConsumerOptions) {}

  async start(): Promise<void> {
    await this.register();
    await this.rebalance();
    this.timers.push(setInterval(() => void this.poll(), this.o.pollIntervalMs));
    this.timers.push(setInterval(() => void this.rebalance(), this.o.heartbeatIntervalMs));
    this.unsubscribe.push(
      this.o.notifier.onProduced((topic) => {
        if (this.o.topics.includes(topic)) void this.poll();
      }),
      this.o.notifier.onGroupChanged((groupId) => {
        if (groupId === this.o.groupId) void this.rebalance();
      }),
    );
    void this.poll();
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    void this.poll();
  }

  assignment(): Record<string, number[]> {
    const result: Record<string, number[]> = {};
    for (const p of this.owned.values()) {
      if (p.revoked) continue;
      (result[p.topic] ??= []).push(p.partition);
    }
    for (const list of Object.values(result)) list.sort((a, b) => a - b);
    return result;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    for (const cancel of this.wakeUps.values()) cancel();
    this.wakeUps.clear();
    for (const off of this.unsubscribe) off();
    await Promise.all([...this.owned.values()].map((p) => p.run));
    await this.rebalancing;
    try {
      // Deleting the member row releases its claims at once (ON DELETE CASCADE).
      await this.o.db.query("DELETE FROM bus_group_members WHERE group_id = $1 AND member_id = $2", [
        this.o.groupId,
        this.memberId,
      ]);
      this.o.notifier.groupChanged(this.o.groupId);
    } catch (err) {
      this.o.logger.warn({ ...errorFields(err), groupId: this.o.groupId }, "embedded bus: leaving the group failed");
    }
    this.owned.clear();
    this.o.onStopped(this);
  }

  private async register(): Promise<void> {
    await this.o.db.query(
      `INSERT INTO bus_group_members (group_id, member_id, topics, session_timeout_ms)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, member_id) DO UPDATE SET heartbeat_at = now()`,
      [this.o.groupId, this.memberId, JSON.stringify(this.o.topics), this.o.sessionTimeoutMs],
    );
    this.o.notifier.groupChanged(this.o.groupId);
  }

  /** Heartbeat, expire dead members, and move claims towards this member's share. */
  private rebalance(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      do {
        this.rebalanceAgain = false;
        try {
          await this.rebalanceOnce();
        } catch (err) {
          this.o.logger.warn({ ...errorFields(err), groupId: this.o.groupId }, "embedded bus: rebalance failed");
        }
      } while (this.rebalanceAgain && !this.stopping);
      this.rebalancing = null;
    })();
    return this.rebalancing;
  }

  private async rebalanceOnce(): Promise<void> {
    const { db, groupId } = this.o;
    const beat = await db.query("UPDATE bus_group_members SET heartbeat_at = now() WHERE group_id = $1 AND member_id = $2", [
      groupId,
      this.memberId,
    ]);
    if (beat.rowCount === 0) {
      // Another member found us expired and removed us with our claims: rejoin from scratch.
      this.o.logger.warn({ groupId, memberId: this.memberId }, "embedded bus: session expired, rejoining the group");
      for (const p of this.owned.values()) p.revoked = true;
      await this.register();
    }
    const expired = await db.query(
      `DELETE FROM bus_group_members
       WHERE group_id = $1 AND heartbeat_at < now() - session_timeout_ms * interval '1 millisecond'`,
      [groupId],
    );
    if (expired.rowCount > 0) this.o.notifier.groupChanged(groupId);

    const members = (
      await db.query<{ member_id: string; topics: string }>(
        "SELECT member_id, topics FROM bus_group_members WHERE group_id = $1",
        [groupId],
      )
    ).rows.map((r): GroupMember => ({ memberId: r.member_id, topics: JSON.parse(r.topics) as string[] }));
    const allTopics = [...new Set(members.flatMap((m) => m.topics))];
    const counts = new Map(
      (
        await db.query<{ name: string; partitions: number }>(
          "SELECT name, partitions FROM bus_topics WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))",
          [JSON.stringify(allTopics)],
        )
      ).rows.map((r) => [r.name, Number(r.partitions)] as const),
    );
    const wanted = new Set(assignPartitions(members, counts).get(this.memberId) ?? []);
    const held = new Set(
      (
        await db.query<{ topic: string; partition: number }>(
          "SELECT topic, partition FROM bus_group_claims WHERE group_id = $1 AND member_id = $2",
          [groupId, this.memberId],
        )
      ).rows.map((r) => partitionKey(r.topic, r.partition)),
    );

    let released = false;
    for (const p of [...this.owned.values()]) {
      if (!held.has(p.key)) {
        // The claim is gone (we were expired): stop working on it; commits are fenced anyway.
        p.revoked = true;
        if (!p.run) this.owned.delete(p.key);
      } else if (!wanted.has(p.key) || p.revoked) {
        p.revoked = true;
        if (p.run) continue; // released on a later round, once its batch is done
        await this.releaseClaim(p);
        this.owned.delete(p.key);
        held.delete(p.key);
        released = true;
      }
    }
    // Claims held in the table but unknown here (e.g. left over from before a rejoin): release.
    for (const key of held) {
      if (!this.owned.has(key) && !wanted.has(key)) {
        const [topic, partition] = splitKey(key);
        await this.releaseClaim({ topic, partition });
        released = true;
      }
    }
    if (released) this.o.notifier.groupChanged(groupId);

    for (const key of wanted) {
      if (this.stopping) return;
      const existing = this.owned.get(key);
      if (existing && !existing.revoked) continue;
      if (existing) continue; // still finishing its last batch after a revoke
      const [topic, partition] = splitKey(key);
      if (!held.has(key)) {
        const claimed = await db.query(
          `INSERT INTO bus_group_claims (group_id, topic, partition, member_id) VALUES ($1, $2, $3, $4)
           ON CONFLICT (group_id, topic, partition) DO NOTHING`,
          [groupId, topic, partition, this.memberId],
        );
        if (claimed.rowCount === 0) continue; // its previous owner has not released it yet
      }
      const position = await this.startingPosition(topic, partition);
      this.owned.set(key, { key, topic, partition, position, run: null, attempts: 0, retryAt: 0, revoked: false });
    }
    void this.poll();
  }

  private async releaseClaim(p: { topic: string; partition: number }): Promise<void> {
    await this.o.db.query(
      "DELETE FROM bus_group_claims WHERE group_id = $1 AND topic = $2 AND partition = $3 AND member_id = $4",
      [this.o.groupId, p.topic, p.partition, this.memberId],
    );
  }

  /** The committed position, or (first time for this group) the earliest or the latest record. */
  private async startingPosition(topic: string, partition: number): Promise<number> {
    const { db, groupId } = this.o;
    if (this.o.ephemeral) return this.partitionEnd(topic, partition);
    const committed = await db.query<{ next_offset: number }>(
      "SELECT next_offset FROM bus_group_offsets WHERE group_id = $1 AND topic = $2 AND partition = $3",
      [groupId, topic, partition],
    );
    if (committed.rows[0]) return Number(committed.rows[0].next_offset);
    if (this.o.fromBeginning) return 0;
    const position = await this.partitionEnd(topic, partition);
    // Fix the starting point, so a partition moving to another member before anything was
    // consumed does not skip the records produced meanwhile.
    await db.query(
      `INSERT INTO bus_group_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, $4)
       ON CONFLICT (group_id, topic, partition) DO NOTHING`,
      [groupId, topic, partition, position],
    );
    return position;
  }

  private async partitionEnd(topic: string, partition: number): Promise<number> {
    const end = await this.o.db.query<{ next_offset: number }>("SELECT next_offset FROM bus_partitions WHERE topic = $1 AND partition = $2", [
      topic,
      partition,
    ]);
    return Number(end.rows[0]?.next_offset ?? 0);
  }

  /** Starts a batch on every owned partition that has records, within the concurrency limit. */
  private async poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        if (this.stopping || this.paused || this.activeRuns >= this.o.concurrency) break;
        const now = Date.now();
        const idle = [...this.owned.values()].filter((p) => !p.run && !p.revoked && p.retryAt <= now);
        if (idle.length === 0) break;
        const ends = await this.partitionEnds();
        // Rotate the starting point so one busy partition does not starve the others.
        const start = this.nextStart++ % idle.length;
        for (const p of [...idle.slice(start), ...idle.slice(0, start)]) {
          if (this.activeRuns >= this.o.concurrency || this.stopping || this.paused) break;
          if (p.run || p.revoked) continue;
          if ((ends.get(p.key) ?? 0) > p.position) this.startRun(p);
        }
      } while (this.pollAgain);
    } catch (err) {
      this.o.logger.warn({ ...errorFields(err), groupId: this.o.groupId }, "embedded bus: poll failed");
    } finally {
      this.polling = false;
    }
  }

  private async partitionEnds(): Promise<Map<string, number>> {
    const r = await this.o.db.query<{ topic: string; partition: number; next_offset: number }>(
      "SELECT topic, partition, next_offset FROM bus_partitions WHERE topic IN (SELECT jsonb_array_elements_text($1::jsonb))",
      [JSON.stringify(this.o.topics)],
    );
    return new Map(r.rows.map((row) => [partitionKey(row.topic, row.partition), Number(row.next_offset)]));
  }

  private startRun(p: OwnedPartition): void {
    this.activeRuns++;
    p.run = this.processBatch(p)
      .catch((err) => {
        this.o.logger.error({ ...errorFields(err), topic: p.topic, partition: p.partition }, "embedded bus: batch failed");
        this.scheduleRetry(p);
      })
      .finally(() => {
        p.run = null;
        this.activeRuns--;
        if (p.revoked) void this.rebalance();
        void this.poll();
      });
  }

  /** Hands the partition's next records to the handler in order, committing each after it resolved. */
  private async processBatch(p: OwnedPartition): Promise<void> {
    const rows = await this.o.db.query<RecordRow>(
      `SELECT "offset", key, value, headers, timestamp_ms FROM bus_records
       WHERE topic = $1 AND partition = $2 AND "offset" >= $3 ORDER BY "offset" LIMIT $4`,
      [p.topic, p.partition, p.position, this.o.fetchSize],
    );
    for (const row of rows.rows) {
      if (this.stopping || this.paused || p.revoked) return;
      const offset = Number(row.offset);
      try {
        await this.o.handler(toMessage(p, row));
      } catch (err) {
        if (isHandleLater(err)) {
          this.o.logger.debug({ topic: p.topic, partition: p.partition, offset, at: err.at }, "embedded bus: record not due yet; the partition waits");
          this.waitUntilDue(p, err.at);
          return;
        }
        p.attempts++;
        this.o.logger.warn(
          { ...errorFields(err), topic: p.topic, partition: p.partition, offset, attempt: p.attempts },
          "embedded bus: handler failed; the record will be retried",
        );
        this.scheduleRetry(p);
        return;
      }
      p.attempts = 0;
      const committed = await this.commit(p, offset + 1);
      p.position = offset + 1;
      if (!committed) {
        this.o.logger.warn({ topic: p.topic, partition: p.partition, groupId: this.o.groupId }, "embedded bus: lost the partition's claim");
        p.revoked = true;
        return;
      }
    }
  }

  private scheduleRetry(p: OwnedPartition): void {
    const delay = backoffDelay(Math.max(1, p.attempts), this.o.retry);
    p.retryAt = Date.now() + delay;
    const t = setTimeout(() => void this.poll(), delay + 1);
    t.unref();
  }

  /** The partition starts no batch before `at`; one timer (re-armed beyond setTimeout's range) polls then. */
  private waitUntilDue(p: OwnedPartition, at: number): void {
    p.retryAt = at;
    this.wakeUps.get(p.key)?.();
    if (this.stopping) return;
    const cancel = callAt(
      at,
      () => {
        if (this.wakeUps.get(p.key) === cancel) this.wakeUps.delete(p.key);
        void this.poll();
      },
      { unref: true },
    );
    this.wakeUps.set(p.key, cancel);
  }

  /** Commits `nextOffset` if this member still holds the partition's claim; false if it does not. */
  private async commit(p: OwnedPartition, nextOffset: number): Promise<boolean> {
    if (this.o.ephemeral) return true;
    const r = await this.o.db.query(
      `INSERT INTO bus_group_offsets (group_id, topic, partition, next_offset, committed_at)
       SELECT $1, $2, $3, $4, now()
       WHERE EXISTS (SELECT 1 FROM bus_group_claims
                     WHERE group_id = $1 AND topic = $2 AND partition = $3 AND member_id = $5)
       ON CONFLICT (group_id, topic, partition)
       DO UPDATE SET next_offset = EXCLUDED.next_offset, committed_at = EXCLUDED.committed_at`,
      [this.o.groupId, p.topic, p.partition, nextOffset, this.memberId],
    );
    return r.rowCount > 0;
  }
}

function toMessage(p: OwnedPartition, row: RecordRow): BusMessage {
  const value = Buffer.from(row.value.buffer, row.value.byteOffset, row.value.byteLength);
  const headers = typeof row.headers === "string" ? (JSON.parse(row.headers) as Record<string, string>) : row.headers;
  return {
    topic: p.topic,
    partition: p.partition,
    offset: String(row.offset),
    key: row.key,
    value,
    headers: { ...headers },
    timestamp: Number(row.timestamp_ms),
  };
}

function splitKey(key: string): [string, number] {
  const slash = key.lastIndexOf("/");
  return [key.slice(0, slash), Number(key.slice(slash + 1))];
}
