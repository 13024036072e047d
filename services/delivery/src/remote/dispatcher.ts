import type { OutboundJob } from "./queue.ts";

export interface DispatcherLimits {
  /** Jobs running at once for one destination domain. */
  perDestination: number;
  /** Jobs running at once in all. */
  total: number;
}

/**
 * Runs outbound jobs with a concurrency limit per destination domain and in all. Each domain has
 * its own FIFO; a free slot goes to the next domain in turn that has work and room, so a slow or
 * unreachable destination only ever occupies its own slots and never delays mail to others.
 */
export class Dispatcher {
  private readonly waiting = new Map<string, OutboundJob[]>();
  private readonly active = new Map<string, number>();
  private readonly runningJobs = new Set<OutboundJob>();
  private running = 0;
  private queued = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly limits: DispatcherLimits,
    private readonly run: (job: OutboundJob) => Promise<void>,
  ) {}

  submit(job: OutboundJob): void {
    if (this.closed) return;
    // Recipients of one message at one domain waiting already: one transaction takes them all.
    const list = this.waiting.get(job.domain) ?? [];
    const same = list.find((j) => j.mailId === job.mailId);
    if (same) {
      for (const r of job.recipients) if (!same.recipients.includes(r)) same.recipients.push(r);
    } else {
      list.push({ ...job, recipients: [...job.recipients] });
      this.queued++;
    }
    this.waiting.set(job.domain, list);
    this.pump();
  }

  /** Jobs waiting for a slot and jobs running. */
  get size(): { waiting: number; running: number } {
    return { waiting: this.queued, running: this.running };
  }

  /** Every job waiting or running: what this process holds. */
  held(): OutboundJob[] {
    return [...[...this.waiting.values()].flat(), ...this.runningJobs];
  }

  /** Stops taking jobs; drops the waiting ones (their owner's lease hands them on) and resolves when the running ones finished. */
  async close(): Promise<OutboundJob[]> {
    this.closed = true;
    const dropped = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.queued = 0;
    await this.idle();
    return dropped;
  }

  idle(): Promise<void> {
    if (this.running === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.limits.total) {
      const next = this.nextJob();
      if (!next) break;
      this.start(next);
    }
    if (this.running === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private nextJob(): OutboundJob | undefined {
    for (const [domain, list] of this.waiting) {
      if ((this.active.get(domain) ?? 0) >= this.limits.perDestination) continue;
      const job = list.shift()!;
      this.queued--;
      // Round robin: the domain goes to the back of the map's order.
      this.waiting.delete(domain);
      if (list.length > 0) this.waiting.set(domain, list);
      return job;
    }
    return undefined;
  }

  private start(job: OutboundJob): void {
    this.running++;
    this.runningJobs.add(job);
    this.active.set(job.domain, (this.active.get(job.domain) ?? 0) + 1);
    void this.run(job)
      .catch(() => {
        // run() handles and logs its own failures; the lease hands anything left over on.
      })
      .finally(() => {
        this.running--;
        this.runningJobs.delete(job);
        const n = (this.active.get(job.domain) ?? 1) - 1;
        if (n === 0) this.active.delete(job.domain);
        else this.active.set(job.domain, n);
        this.pump();
      });
  }
}
