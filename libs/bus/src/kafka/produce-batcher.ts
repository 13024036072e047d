import type { Message, TopicMessages } from "kafkajs";

type Send = (batch: TopicMessages[]) => Promise<unknown>;

interface Pending {
  topic: string;
  messages: Message[];
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * The idempotent producer allows one request in flight, so produce calls made while a request is
 * out are gathered and sent together in the next one (in call order, so per-key order holds).
 * Each call still resolves only when the broker acknowledged the request that carried its records.
 * Without this, concurrent handlers publishing one event each wait one broker round trip apiece.
 */
export class ProduceBatcher {
  private queue: Pending[] = [];
  private sending = false;

  constructor(
    private readonly send: Send,
    private readonly maxMessagesPerRequest = 500,
  ) {}

  produce(topic: string, messages: Message[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, messages, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      const byTopic = new Map<string, Message[]>();
      for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), ...p.messages]);
      try {
        await this.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.sending = false;
  }

  private takeBatch(): Pending[] {
    let count = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || count + this.queue[n]!.messages.length <= this.maxMessagesPerRequest)) {
      count += this.queue[n]!.messages.length;
      n++;
    }
    return this.queue.splice(0, n);
  }
}
