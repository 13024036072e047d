import type { Consumer as KafkaJsConsumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { backoffDelay, type BackoffOptions } from "../backoff.ts";
import type { BusMessage, Consumer, Handler } from "../bus.ts";
import { errorFields, type BusLogger } from "../logger.ts";

export interface KafkaConsumerOptions {
  kafka: Kafka;
  logger: BusLogger;
  groupId: string;
  topics: string[];
  handler: Handler;
  fromBeginning: boolean;
  concurrency: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
  maxWaitTimeMs: number;
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
 */
export class KafkaConsumer implements Consumer {
  private readonly consumer: KafkaJsConsumer;
  private current: Record<string, number[]> = {};
  private userPaused = false;
  /** Partitions paused for a back-off ("topic|partition" → timer that resumes them). */
  private readonly backingOff = new Map<string, NodeJS.Timeout>();
  /** Failed attempts of the record a partition is stuck at. */
  private readonly failures = new Map<string, { offset: string; attempts: number }>();
  private stopped: Promise<void> | null = null;

  constructor(private readonly o: KafkaConsumerOptions) {
    this.consumer = o.kafka.consumer({
      groupId: o.groupId,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: o.heartbeatIntervalMs,
      rebalanceTimeout: o.rebalanceTimeoutMs,
      maxWaitTimeInMs: o.maxWaitTimeMs,
      allowAutoTopicCreation: false,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, STOP } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      this.current = cloneAssignment(e.payload.memberAssignment);
      // A consumer restarted by kafkajs after a crash has forgotten its paused partitions.
      if (this.userPaused) this.applyPause();
    });
    this.consumer.on(REBALANCING, () => (this.current = {}));
    this.consumer.on(CRASH, (e) => {
      this.current = {};
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
      for (const t of this.backingOff.values()) clearTimeout(t);
      this.backingOff.clear();
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
      // Resuming whole topics also lifted the partitions still waiting out a back-off.
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
    for (const message of batch.messages) {
      // Stopping, revoked, paused: leave the rest unresolved; it is fetched again later.
      if (!isRunning() || isStale() || this.userPaused || this.backingOff.has(key)) return;
      try {
        await this.o.handler(toBusMessage(topic, partition, message));
      } catch (err) {
        this.backOff(key, topic, partition, message.offset, err);
        return;
      }
      this.failures.delete(key);
      resolveOffset(message.offset);
      // Straight to the coordinator (consumer.commitOffsets would be skipped while stopping).
      await commitOffsetsIfNecessary({
        topics: [{ topic, partitions: [{ partition, offset: (BigInt(message.offset) + 1n).toString() }] }],
      });
      await heartbeat();
    }
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
    if (!this.userPaused) {
      try {
        this.consumer.pause([{ topic, partitions: [partition] }]);
      } catch {
        // Restarting after a crash: the partition is fetched again from its committed offset.
      }
    }
    const timer = setTimeout(() => {
      this.backingOff.delete(key);
      if (this.userPaused) return;
      try {
        this.consumer.resume([{ topic, partitions: [partition] }]);
      } catch {
        // Stopped or restarting meanwhile.
      }
    }, delay);
    this.backingOff.set(key, timer);
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
