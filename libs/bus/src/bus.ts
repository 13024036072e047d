/** A record as the bus delivers it to a handler. Offsets are decimal strings (Kafka's are int64). */
export interface BusMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Milliseconds since the epoch at which the record was appended. */
  timestamp: number;
}

export interface ProduceRecord {
  /** Records with the same key go to the same partition and are consumed in order. */
  key: string;
  value: Buffer | string;
  headers?: Record<string, string>;
}

/** How far a consumer group is behind on one partition (Bus.consumerLag). */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

export type Handler = (message: BusMessage) => Promise<void>;

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  handler: Handler;
  /** A group with no committed offset starts at the earliest record (default) or only new ones. */
  fromBeginning?: boolean;
  /** How many partitions this consumer works on at once (default 1). Order within a partition holds. */
  partitionsConcurrently?: number;
  /**
   * Group commit (Kafka; the embedded bus commits each record in its own transaction anyway): the
   * offsets of handled records are committed together, for every partition, at most this often,
   * instead of one commit request per record. Still only after the handler resolved, and stop()
   * still commits everything handled; a crash (kill -9) hands up to this much already handled work
   * over again, so only for idempotent handlers. Default 0: each record is committed before the next
   * one is handed over.
   */
  commitIntervalMs?: number;
  /**
   * For consumers that can wait (Kafka; the embedded bus ignores it): the broker answers a fetch
   * once 64 KiB of records are there or after this many ms, so a busy topic is read in a few full
   * fetches rather than one nearly empty fetch per record. Default: the bus's wait with no minimum
   * size, so a record is handed over as soon as it arrives.
   */
  gatherMs?: number;
  /**
   * A listener rather than a worker: it starts at the newest record, commits nothing and leaves no
   * position behind when it stops, so a new listener under the same group id starts afresh. For a
   * group of one that every process runs for itself (fan-out: waking IDLE sessions on each IMAP
   * process); records produced while no listener runs are never seen. Implies fromBeginning: false.
   */
  ephemeral?: boolean;
}

/** A running member of a consumer group. */
export interface Consumer {
  /** Stops fetching; the handler in flight finishes and is committed before this resolves. */
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  /** The partitions this member currently owns, e.g. `{ "mail.received": [0, 2] }`. */
  assignment(): Record<string, number[]>;
}

/**
 * The event bus. Kafka in cluster mode, a durable log in the Db in standalone mode.
 * produce() resolves only when every record is durably acknowledged (acks=all).
 * Consumers get records at least once: an offset is committed only after the handler resolved;
 * a handler that throws gets the same record again (with back-off) and the partition waits.
 * A handler that throws HandleLater(at) gets the same record again once `at` has passed; its
 * partition waits without a failure being counted or logged, and other partitions go on.
 */
export interface Bus {
  readonly kind: "kafka" | "embedded";
  createTopics(topics: TopicSpec[]): Promise<void>;
  produce(topic: string, records: ProduceRecord[]): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Resolves when the bus answers; used by /readyz. */
  ping(): Promise<void>;
  /**
   * Records behind the group's committed offset, per partition of `topics` (a partition the group
   * has never committed on counts from the earliest record still kept). For the lag gauge (metrics.ts).
   */
  consumerLag?(groupId: string, topics: string[]): Promise<PartitionLag[]>;
  close(): Promise<void>;
}
