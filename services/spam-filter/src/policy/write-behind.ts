import type { Logger } from "@postline/telemetry";
import { Counter, type Registry } from "prom-client";

// Write-behind for the verdict observers (the verdict record, reputation counts): records are
// buffered in the process, merged per key, and written together, one statement per flush, every
// intervalMs or as soon as maxEntries keys are waiting. These are observations, not mail: the message
// and its verdict in mail.classified are published before; a crash loses at most one interval of
// records (docs/spam-filter.md "Verdict observers: write-behind"). intervalMs 0 writes each record
// at once, in the observer's call (its failure is the caller's, as before).

export interface WriteBehindOptions<V> {
  /** The observer's name (logs, metrics). */
  name: string;
  /** Flush at most this long after a record; 0 = write every record immediately. */
  intervalMs: number;
  /** Flush at once when this many keys are waiting (default 1000). */
  maxEntries?: number;
  /** Merges a newer record into a waiting one of the same key. */
  merge(older: V, newer: V): V;
  /** Writes one batch (one statement); throws on failure. */
  write(batch: Array<[string, V]>): Promise<void>;
  logger?: Logger;
  metrics?: WriteBehindMetrics;
}

export interface WriteBehindMetrics {
  flushFailures: Counter<"observer">;
  dropped: Counter<"observer">;
}

/** The write-behind counters, registered once per registry. */
export function writeBehindMetrics(registry: Registry): WriteBehindMetrics {
  const failures = "postline_spam_filter_observer_flush_failures_total";
  const dropped = "postline_spam_filter_observer_records_dropped_total";
  return {
    flushFailures:
      (registry.getSingleMetric(failures) as Counter<"observer"> | undefined) ??
      new Counter({ name: failures, help: "Failed write-behind flushes of a verdict observer (retried once at the next interval)", labelNames: ["observer"], registers: [registry] }),
    dropped:
      (registry.getSingleMetric(dropped) as Counter<"observer"> | undefined) ??
      new Counter({ name: dropped, help: "Observer records given up after their retried flush failed too", labelNames: ["observer"], registers: [registry] }),
  };
}

interface Entry<V> {
  value: V;
  /** Failed flushes this entry was part of. */
  attempts: number;
}

export class WriteBehind<V> {
  private pending = new Map<string, Entry<V>>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private readonly maxEntries: number;

  constructor(private readonly options: WriteBehindOptions<V>) {
    this.maxEntries = Math.max(1, options.maxEntries ?? 1000);
  }

  /** Records waiting to be written. */
  get size(): number {
    return this.pending.size;
  }

  /** Buffers a record (or, with intervalMs 0, writes it now). Never throws when buffering. */
  async add(key: string, value: V): Promise<void> {
    if (this.options.intervalMs <= 0) {
      await this.options.write([[key, value]]);
      return;
    }
    this.put(key, { value, attempts: 0 });
    if (this.pending.size >= this.maxEntries) await this.flush();
    else this.schedule();
  }

  /** Writes everything waiting (after any flush already running). A failure is logged and counted, not thrown. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.chain = this.chain.then(() => this.flushOnce());
    return this.chain;
  }

  /** On stop: writes what is waiting, retrying a failed batch once. */
  async close(): Promise<void> {
    await this.flush();
    if (this.pending.size > 0) await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private put(key: string, entry: Entry<V>): void {
    const waiting = this.pending.get(key);
    this.pending.set(key, waiting ? { value: this.options.merge(waiting.value, entry.value), attempts: Math.max(waiting.attempts, entry.attempts) } : entry);
  }

  private schedule(): void {
    if (this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.options.intervalMs);
    this.timer.unref();
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.options.write([...batch].map(([key, e]) => [key, e.value]));
    } catch (err) {
      this.options.metrics?.flushFailures.inc({ observer: this.options.name });
      let dropped = 0;
      // Retried once, merged with what arrived meanwhile (batch older, pending newer).
      const newer = this.pending;
      this.pending = new Map();
      for (const [key, e] of batch) {
        if (e.attempts >= 1) dropped++;
        else this.put(key, { value: e.value, attempts: 1 });
      }
      for (const [key, e] of newer) this.put(key, e);
      if (dropped > 0) this.options.metrics?.dropped.inc({ observer: this.options.name }, dropped);
      this.options.logger?.error({ err, observer: this.options.name, records: batch.size, dropped }, "observer write-behind flush failed");
    }
    this.schedule();
  }
}
