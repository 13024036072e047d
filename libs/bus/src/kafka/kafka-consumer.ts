import type { Consumer as KafkaJsConsumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import type { BusMessage, Consumer, Handler } from "../bus.ts";
import { callAt, isHandleLater } from "../handle-later.ts";
import { errorFields, type BusLogger } from "../logger.ts";

export interface KafkaConsumerOptions {
  kafka: Kafka;
  logger: BusLogger;
  groupId: string;
  topics: string[];
  handler: Handler;
  fromBeginning: boolean;
  concurrency: number;
  /** 0: commit each record before the next; otherwise group commit at most this often (ConsumeOptions). */
  commitIntervalMs: number;
  /** Commit nothing (ConsumeOptions.ephemeral): a group without offsets vanishes when its member leaves. */
  ephemeral: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
  /** The least a fetch answers with before maxWaitTimeMs has passed (kafkajs minBytes). */
  minBytes: number;
  retry: BackoffOptions;
  onStopped(consumer: KafkaConsumer): void;
}

/**
 * A kafkajs group member that commits each record after its handler resolved.
 *
 * Offsets are resolved by hand (eachBatchAutoResolve off), so kafkajs's next fetch of a
 * partition starts at the first record not yet handled. A handler that throws pauses only its
 * partition for the back-off delay and ends the batch; when the partition is resumed the same
 * record is fetched again. Other partitions go on meanwhile, even with one partition at a time.
 * A handler that throws HandleLater pauses its partition the same way until the record is due,
 * without counting a failure.
 */
export class KafkaConsumer implements Consumer {
  private readonly consumer: KafkaJsConsumer;
  private current: Record<string, number[]> = {};
  private userPaused = false;
  /** Partitions paused for a back-off or a HandleLater ("topic|partition" → cancels the timer that resumes them). */
  private readonly backingOff = new Map<string, () => void>();
  /** Failed attempts of the record a partition is stuck at. */
  private readonly failures = new Map<string, { offset: string; attempts: number }>();
  private stopped: Promise<void> | null = null;
  private stopping = false;
  /** Group commit: the next offset to commit per "topic|partition", handled but not yet committed. */
  private readonly uncommitted = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly o: KafkaConsumerOptions) {
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      minBytes: o.minBytes,
      allowAutoTopicCreation: false,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      this.current = cloneAssignment(e.payload.memberAssignment);
      // A consumer restarted by kafkajs after a crash has forgotten its paused partitions.
      if (this.userPaused) this.applyPause();
    });
    this.consumer.on(REBALANCING, () => {
      this.current = {};
      // Offsets of partitions that may move can no longer be committed by us; the new owner handles
      // those records again (group commit is only for idempotent handlers).
      this.uncommitted.clear();
    });
    this.consumer.on(CRASH, (e) => {
      this.current = {};
      this.uncommitted.clear();
      this.o.logger.error({ ...errorFields(e.payload.error), groupId: o.groupId, restart: e.payload.restart }, "kafka consumer crashed");
    });
    this.consumer.on(STOP, () => (this.current = {}));
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.o.topics, fromBeginning: this.o.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.o.concurrency,
      eachBatch: (payload) => this.eachBatch(payload),
    });
  }

  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping = true;
      for (const cancel of this.backingOff.values()) cancel();
      this.backingOff.clear();
      // Commits what was handled; batches still running commit their own rest as they end.
      await this.flush();
      try {
        await this.consumer.disconnect();
      } finally {
        this.current = {};
        this.o.onStopped(this);
      }
    })();
    return this.stopped;
  }

  pause(): void {
    this.userPaused = true;
    this.applyPause();
  }

  resume(): void {
    this.userPaused = false;
    try {
      this.consumer.resume(this.o.topics.map((topic) => ({ topic })));
      // Resuming whole topics also lifted the partitions still waiting out a back-off or a HandleLater.
      for (const key of this.backingOff.keys()) this.consumer.pause([splitKey(key)]);
    } catch {
      // Not running (restarting after a crash): GROUP_JOIN applies the state.
    }
  }

  assignment(): Record<string, number[]> {
    return cloneAssignment(this.current);
  }

  private applyPause(): void {
    try {
      this.consumer.pause(this.o.topics.map((topic) => ({ topic })));
    } catch {
      // Not running (restarting after a crash): GROUP_JOIN applies the state.
    }
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const key = `${topic}|${partition}`;
    if (this.backingOff.has(key) && !this.userPaused) {
      // Fetched although it waits (its pause was lost, e.g. across a rebalance): pause it again
      // rather than fetching it over and over until it is due.
      this.pausePartition(topic, partition);
      return;
    }
    for (const message of batch.messages) {
      // Stopping, revoked, paused: leave the rest unresolved; it is fetched again later.
      if (!isRunning() || isStale() || this.userPaused || this.backingOff.has(key)) return;
      try {
        await this.o.handler(toBusMessage(topic, partition, message));
      } catch (err) {
        if (isHandleLater(err)) {
          this.o.logger.debug({ topic, partition, offset: message.offset, at: err.at }, "kafka consumer: record not due yet; the partition waits");
          this.holdPartition(key, topic, partition, err.at);
        } else {
          this.backOff(key, topic, partition, message.offset, err);
        }
        return;
      }
      this.failures.delete(key);
      resolveOffset(message.offset);
      const next = (BigInt(message.offset) + 1n).toString();
      if (this.o.ephemeral) {
        // resolveOffset alone keeps our place for the next fetch
      } else if (this.o.commitIntervalMs > 0 && !this.stopping) {
        this.uncommitted.set(key, next);
        this.scheduleFlush();
      } else {
        this.uncommitted.delete(key);
        // Straight to the coordinator (consumer.commitOffsets would be skipped while stopping).
        await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      }
      await heartbeat();
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.o.commitIntervalMs);
  }

  /** Commits every handled offset not yet committed, for all partitions in one request. */
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.flushing = this.flushing.then(async () => {
      if (this.uncommitted.size === 0) return;
      const byTopic = new Map<string, { partition: number; offset: string }[]>();
      for (const [key, offset] of this.uncommitted) {
        const { topic, partitions } = splitKey(key);
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition: partitions[0]!, offset }]);
      }
      const taken = new Map(this.uncommitted);
      this.uncommitted.clear();
      try {
        await this.consumer.commitOffsets([...byTopic].flatMap(([topic, ps]) => ps.map((p) => ({ topic, ...p }))));
      } catch (err) {
        // A rebalance or a lost coordinator: those records are handled again by whoever owns them next.
        this.o.logger.warn({ ...errorFields(err), groupId: this.o.groupId, partitions: taken.size }, "kafka consumer: group commit failed; the records will be handled again");
      }
    });
    return this.flushing;
  }

  private backOff(key: string, topic: string, partition: number, offset: string, err: unknown): void {
    const previous = this.failures.get(key);
    const attempts = previous?.offset === offset ? previous.attempts + 1 : 1;
    this.failures.set(key, { offset, attempts });
    const delay = backoffDelay(attempts, this.o.retry);
    this.o.logger.warn(
      { ...errorFields(err), topic, partition, offset, attempt: attempts, retryInMs: delay },
      "kafka consumer: handler failed; the record will be retried",
    );
    this.holdPartition(key, topic, partition, Date.now() + delay);
  }

  /** Pauses one partition until `at` (one timer, re-armed for delays beyond setTimeout's range), then fetches it again. */
  private holdPartition(key: string, topic: string, partition: number, at: number): void {
    if (this.stopping) return;
    if (!this.userPaused) this.pausePartition(topic, partition);
    this.backingOff.get(key)?.();
    const cancel = callAt(at, () => {
      if (this.backingOff.get(key) !== cancel) return;
      this.backingOff.delete(key);
      if (this.userPaused || this.stopping) return;
      try {
        this.consumer.resume([{ topic, partitions: [partition] }]);
      } catch {
        // Stopped or restarting meanwhile.
      }
    });
    this.backingOff.set(key, cancel);
  }

  private pausePartition(topic: string, partition: number): void {
    try {
      this.consumer.pause([{ topic, partitions: [partition] }]);
    } catch {
      // Restarting after a crash: the partition is fetched again from its committed offset.
    }
  }
}

function toBusMessage(topic: string, partition: number, m: KafkaMessage): BusMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString("utf8") : null,
    value: m.value ?? Buffer.alloc(0),
    headers: headersToStrings(m.headers),
    timestamp: Number(m.timestamp),
  };
}

function headersToStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (last !== undefined) out[name] = last.toString();
  }
  return out;
}

function cloneAssignment(a: Record<string, number[]>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(a).map(([t, ps]) => [t, [...ps].sort((x, y) => x - y)]));
}

function splitKey(key: string): { topic: string; partitions: number[] } {
  const bar = key.lastIndexOf("|");
  return { topic: key.slice(0, bar), partitions: [Number(key.slice(bar + 1))] };
}
