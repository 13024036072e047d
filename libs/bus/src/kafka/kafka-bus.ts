import { Kafka, Partitioners, type Admin, type Producer } from "kafkajs";
import type { BackoffOptions } from "../backoff.ts";
import type { Bus, ConsumeOptions, Consumer, PartitionLag, ProduceRecord, TopicSpec } from "../bus.ts";
import { stderrLogger, type BusLogger } from "../logger.ts";
import { KafkaConsumer } from "./kafka-consumer.ts";
import { ProduceBatcher } from "./produce-batcher.ts";
import { kafkaLogCreator, kafkaLogLevel, type KafkaLogLevel } from "./kafka-logger.ts";

/** How much a fetch of a gathering consumer (ConsumeOptions.gatherMs) waits for. */
const GATHER_BYTES = 64 * 1024;

export interface KafkaBusOptions {
  brokers: string[];
  clientId: string;
  /** A member silent for this long is dropped from its group and its partitions move (default 10 s). */
  sessionTimeoutMs?: number;
  /** Default 1 s; must be well below the session timeout. */
  heartbeatIntervalMs?: number;
  /** How long the coordinator waits for members to rejoin during a rebalance (default 15 s). */
  rebalanceTimeoutMs?: number;
  /** The longest an idle fetch waits on the broker; bounds how late a member notices a rebalance (default 1 s). */
  maxWaitTimeMs?: number;
  /** Replication factor of topics created by createTopics (default: the broker's default). */
  replicationFactor?: number;
  /** Back-off between attempts of a record whose handler threw. */
  retry?: BackoffOptions;
  logger?: BusLogger;
  /** The least severe kafkajs log line passed to the logger (default "warn"). */
  kafkaLogLevel?: KafkaLogLevel;
}

/**
 * The bus of cluster mode. Producer: idempotent, acks=all, one request in flight, so a
 * resolved produce() is on every in-sync replica and retries cannot reorder or duplicate.
 * Consumers commit each record's offset after its handler resolved (see KafkaConsumer).
 */
export class KafkaBus implements Bus {
  readonly kind = "kafka" as const;
  readonly kafka: Kafka;
  private readonly logger: BusLogger;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private readonly consumers = new Set<KafkaConsumer>();
  private closed = false;
  private readonly batcher = new ProduceBatcher(async (topicMessages) => (await this.connectedProducer()).sendBatch({ acks: -1, topicMessages }));

  constructor(private readonly options: KafkaBusOptions) {
    this.logger = options.logger ?? stderrLogger;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: kafkaLogLevel(options.kafkaLogLevel ?? "warn"),
      logCreator: kafkaLogCreator(this.logger),
    });
  }

  async createTopics(topics: TopicSpec[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      // Returns false (no error) for topics created meanwhile by someone else.
      await admin.createTopics({
        // kafkajs's own wait fails with "does not host this topic-partition" while a KRaft broker
        // is still learning of the new topic; wait for the leaders below instead.
        waitForLeaders: false,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          ...(this.options.replicationFactor ? { replicationFactor: this.options.replicationFactor } : {}),
        })),
      });
    }
    await this.waitForLeaders(topics.map((t) => t.name));
  }

  private async waitForLeaders(topics: string[], timeoutMs = 30_000): Promise<void> {
    const admin = await this.connectedAdmin();
    const deadline = Date.now() + timeoutMs;
    for (let delay = 50; ; delay = Math.min(delay * 2, 1000)) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics });
        if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
          // The metadata names a leader before that broker serves the partition; a consumer's
          // first ListOffsets then fails with NOT_LEADER. Ready means the offsets answer.
          for (const topic of topics) await admin.fetchTopicOffsets(topic);
          return;
        }
      } catch (err) {
        const type = (err as { type?: string }).type;
        if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE" && type !== "NOT_LEADER_FOR_PARTITION") throw err;
      }
      if (Date.now() > deadline) throw new Error(`topics ${topics.join(", ")} have no leader after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  async produce(topic: string, records: ProduceRecord[]): Promise<void> {
    this.assertOpen();
    if (records.length === 0) return;
    await this.batcher.produce(
      topic,
      records.map((r) => ({
        key: r.key,
        value: typeof r.value === "string" ? Buffer.from(r.value, "utf8") : r.value,
        headers: r.headers ?? {},
      })),
    );
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    this.assertOpen();
    const consumer = new KafkaConsumer({
      kafka: this.kafka,
      logger: this.logger,
      groupId: options.groupId,
      topics: [...new Set(options.topics)],
      handler: options.handler,
      fromBeginning: options.ephemeral ? false : (options.fromBeginning ?? true),
      concurrency: Math.max(1, options.partitionsConcurrently ?? 1),
      commitIntervalMs: Math.max(0, options.commitIntervalMs ?? 0),
      ephemeral: options.ephemeral ?? false,
      sessionTimeoutMs: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeoutMs: this.options.rebalanceTimeoutMs ?? 15_000,
      ...(options.gatherMs !== undefined && options.gatherMs > 0
        ? { maxWaitTimeMs: options.gatherMs, minBytes: GATHER_BYTES }
        : { maxWaitTimeMs: this.options.maxWaitTimeMs ?? 1_000, minBytes: 1 }),
      retry: this.options.retry ?? {},
      onStopped: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (err) {
      this.consumers.delete(consumer);
      await consumer.stop().catch(() => {});
      throw err;
    }
    return consumer;
  }

  async ping(): Promise<void> {
    const admin = await this.connectedAdmin();
    await admin.describeCluster();
  }

  /** The group's committed offsets (admin fetchOffsets) against the partitions' high watermarks. */
  async consumerLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
    const admin = await this.connectedAdmin();
    const committed = await admin.fetchOffsets({ groupId, topics });
    const result: PartitionLag[] = [];
    for (const { topic, partitions } of committed) {
      const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, p]));
      for (const { partition, offset } of partitions) {
        const end = ends.get(partition);
        if (!end) continue;
        // -1: nothing committed yet; the group starts at the earliest record kept.
        const from = Number(offset) >= 0 ? Number(offset) : Number(end.low);
        result.push({ topic, partition, lag: Math.max(0, Number(end.high) - from) });
      }
    }
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((c) => c.stop()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => {}),
      admin?.then((a) => a.disconnect()).catch(() => {}),
    ]);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producer = producer.connect().then(() => producer);
      // A failed connect is not cached: the next produce() tries again.
      this.producer.catch(() => (this.producer = null));
    }
    return this.producer;
  }

  private connectedAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => (this.admin = null));
    }
    return this.admin;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("the bus is closed");
  }
}
