import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import { HandleLater, RetryTiers, retryTopic, type Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { DsnRecipient } from "@postline/dsn";
import { deliveryRetry, encodeEvent, type DeliveryRetry, type MailClassified } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import { attemptResult, type DeliveryMetrics } from "../metrics.ts";
import { Dispatcher } from "./dispatcher.ts";
import { sendNotice } from "./notices.ts";
import { diagnosticCode, hostName, rcptParams, retryDelay, wantsNotice } from "./outcomes.ts";
import { OutboundQueue, type ClaimedRecipient, type OutboundJob, type OutboundMessage } from "./queue.ts";
import type { RemoteSettings } from "./settings.ts";
import { RemoteTransport, type OutboundRecipient, type RecipientOutcome } from "./transport/index.ts";

export interface RemoteDeliveryDeps {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  metrics: DeliveryMetrics;
  /** This process's lease-owner identity (unique per process). */
  owner: string;
}

type Failure = Extract<RecipientOutcome, { kind: "temporary" | "permanent" }>;

/**
 * The remote part of delivery. Recipients are queued in PostgreSQL and owned by the process that
 * queued them (a lease); a dispatcher runs one SMTP transaction per (message, destination domain)
 * with per-destination concurrency limits. Temporary failures wait on `delivery.retry.<tier>`
 * until their next attempt; permanent ones, and those whose lifetime ran out, are bounced with a
 * DSN. A sweeper takes over the recipients of processes that died.
 */
export class RemoteDelivery {
  private readonly queue: OutboundQueue;
  private readonly transport: RemoteTransport;
  private readonly dispatcher: Dispatcher;
  private readonly timers: NodeJS.Timeout[] = [];
  private sweeping: Promise<void> | undefined;

  constructor(
    private readonly deps: RemoteDeliveryDeps,
    private readonly settings: RemoteSettings,
  ) {
    this.queue = new OutboundQueue(deps.db, deps.owner, settings.POSTLINE_DELIVERY_LEASE_SECONDS * 1000);
    this.transport = new RemoteTransport(
      {
        heloName: settings.POSTLINE_HOSTNAME,
        port: settings.POSTLINE_DELIVERY_SMTP_PORT,
        dnsServers: settings.POSTLINE_DNS_SERVERS,
        connectTimeoutMs: settings.POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS * 1000,
        greetingTimeoutMs: settings.POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS * 1000,
        socketTimeoutMs: settings.POSTLINE_DELIVERY_SMTP_TIMEOUT_SECONDS * 1000,
        idleConnectionMs: settings.POSTLINE_DELIVERY_CONNECTION_IDLE_SECONDS * 1000,
        maxMessagesPerConnection: settings.POSTLINE_DELIVERY_MESSAGES_PER_CONNECTION,
      },
      deps.logger,
    );
    this.dispatcher = new Dispatcher(
      { perDestination: settings.POSTLINE_DELIVERY_DESTINATION_CONCURRENCY, total: settings.POSTLINE_DELIVERY_OUTBOUND_CONCURRENCY },
      (job) => this.attempt(job),
    );
  }

  /** The topics the retry consumer reads. */
  static retryTopics(): string[] {
    return RetryTiers.map(retryTopic);
  }

  start(): void {
    const leaseMs = this.settings.POSTLINE_DELIVERY_LEASE_SECONDS * 1000;
    const renew = setInterval(() => {
      this.queue.renewLeases(this.dispatcher.held()).catch((err) => this.deps.logger.warn({ err }, "remote delivery: could not renew leases"));
    }, leaseMs / 3);
    const sweep = setInterval(() => void this.sweep(), this.settings.POSTLINE_DELIVERY_SWEEP_SECONDS * 1000);
    for (const t of [renew, sweep]) {
      t.unref();
      this.timers.push(t);
    }
  }

  /** Graceful stop: transactions under way finish; what waited in memory is handed to the others. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.sweeping;
    const dropped = await this.dispatcher.close();
    await this.queue.releaseWaiting().catch((err) => this.deps.logger.warn({ err }, "remote delivery: could not release waiting recipients"));
    await this.transport.close();
    if (dropped.length > 0) this.deps.logger.info({ jobs: dropped.length }, "remote delivery: waiting jobs handed over to the other processes");
  }

  /** Queues a classified message's remote recipients and starts on them. Resolves once they are durable. */
  async enqueue(event: MailClassified, recipients: string[]): Promise<void> {
    const jobs = await this.queue.enqueue(event, recipients, this.settings.POSTLINE_DELIVERY_MAX_LIFETIME);
    for (const job of jobs) this.dispatcher.submit(job);
    this.deps.metrics.deliveries.inc({ outcome: "remote_queued" }, recipients.length);
  }

  /** A `delivery.retry.<tier>` record: not due yet → the partition waits for it; due → its recipient is taken on. */
  async handleRetry(event: DeliveryRetry): Promise<void> {
    const due = Date.parse(event.notBefore);
    if (due > Date.now() + 50) throw new HandleLater(due);
    const job = await this.queue.claimDue(event.id, event.rcpt);
    if (job) this.dispatcher.submit(job);
  }

  private sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const overdueMs = Math.max(60_000, this.settings.POSTLINE_DELIVERY_SWEEP_SECONDS * 4000);
        const { jobs, fromDeadOwners } = await this.queue.takeOver(overdueMs);
        if (jobs.length > 0) {
          this.deps.logger.warn({ jobs: jobs.length, fromDeadOwners }, "remote delivery: took over recipients nobody was working on");
          for (const job of jobs) this.dispatcher.submit(job);
        }
        const depth = await this.queue.depth();
        this.deps.metrics.remoteQueue.set({ state: "queued" }, depth.queued);
        this.deps.metrics.remoteQueue.set({ state: "deferred" }, depth.deferred);
        this.deps.metrics.remoteQueue.set({ state: "in_flight" }, depth.inFlight);
      } catch (err) {
        this.deps.logger.warn({ err }, "remote delivery: sweep failed");
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  /** One SMTP transaction for a job's recipients that are still due; every outcome recorded. */
  private async attempt(job: OutboundJob): Promise<void> {
    const log = this.deps.logger.child({ mailId: job.mailId, domain: job.domain });
    try {
      const message = await this.queue.message(job.mailId);
      if (!message) {
        log.error("remote delivery: the queued message has no outbound row; nothing sent");
        return;
      }
      const claimed = await this.queue.claimForSending(job);
      if (claimed.length === 0) return;
      for (const c of claimed.filter((x) => x.resend)) {
        log.warn({ recipient: c.recipient, attempt: c.attempts }, "remote delivery: re-sending a message that was in flight when its process stopped");
        this.deps.metrics.remoteResends.inc();
      }
      const outcomes = await this.send(message, job.domain, claimed, log);
      await this.record(message, claimed, outcomes, log);
    } catch (err) {
      // The lease hands the recipients to a sweep if this process cannot record anything.
      log.error({ err }, "remote delivery: attempt failed before its outcome was recorded");
    }
  }

  private async send(message: OutboundMessage, domain: string, claimed: ClaimedRecipient[], log: Logger): Promise<RecipientOutcome[]> {
    const recipients: OutboundRecipient[] = claimed.map((c) => {
      const p = rcptParams(message.envelope.dsn.rcpt, c.recipient);
      return { address: c.recipient, ...(p?.notify ? { notify: p.notify } : {}), ...(p?.orcpt ? { orcpt: p.orcpt } : {}) };
    });
    try {
      return await this.transport.deliver(
        domain,
        {
          mailFrom: message.sender,
          smtpUtf8: message.envelope.smtpUtf8,
          body: message.envelope.body,
          ...(message.envelope.dsn.ret ? { ret: message.envelope.dsn.ret } : {}),
          ...(message.envelope.dsn.envid ? { envid: message.envelope.dsn.envid } : {}),
          size: message.size,
        },
        recipients,
        () => this.deps.blobs.get(message.blobKey),
      );
    } catch (err) {
      if (err instanceof BlobNotFoundError) {
        log.error({ blob: message.blobKey }, "remote delivery: the message is missing from the blob store");
        return claimed.map((c) => ({ recipient: c.recipient, kind: "permanent", status: "5.3.0", error: "the message content was lost from the store" }));
      }
      log.warn({ err }, "remote delivery: transaction failed");
      return claimed.map((c) => ({ recipient: c.recipient, kind: "temporary", status: "4.3.0", error: `local error: ${(err as Error).message}` }));
    }
  }

  private async record(message: OutboundMessage, claimed: ClaimedRecipient[], outcomes: RecipientOutcome[], log: Logger): Promise<void> {
    const { metrics } = this.deps;
    for (const o of outcomes) metrics.remoteAttemptResults.inc({ result: attemptResult(o) });
    const byRecipient = new Map(claimed.map((c) => [c.recipient, c]));
    const now = Date.now();
    const delivered = outcomes.filter((o): o is Extract<RecipientOutcome, { kind: "delivered" }> => o.kind === "delivered");
    const permanent: Failure[] = outcomes.filter((o): o is Failure => o.kind === "permanent");
    const later: { outcome: Failure; claim: ClaimedRecipient; next: Date }[] = [];
    for (const o of outcomes) {
      if (o.kind !== "temporary") continue;
      const claim = byRecipient.get(o.recipient)!;
      const next = now + retryDelay(this.settings.POSTLINE_DELIVERY_RETRY_SCHEDULE, claim.attempts);
      if (next > message.expiresAt.getTime()) {
        permanent.push({ ...o, status: "4.4.7", error: `gave up after ${claim.attempts} attempts over the queue lifetime; last error: ${o.error}` });
      } else later.push({ outcome: o, claim, next: new Date(next) });
    }

    if (delivered.length > 0) {
      await this.queue.delivered(message.mailId, delivered);
      metrics.remoteAttempts.inc({ outcome: "delivered" }, delivered.length);
      metrics.remoteLatency.observe((now - message.receivedAt.getTime()) / 1000);
      log.info({ recipients: delivered.map((d) => d.recipient), host: delivered[0]!.host, reply: delivered[0]!.reply }, "remote delivery: delivered");
      const relayed = delivered.filter((d) => !d.remoteSupportsDsn && this.notices(message, d.recipient, "SUCCESS"));
      if (relayed.length > 0) {
        await this.notify(message, relayed.map((d) => ({ finalRecipient: d.recipient, action: "relayed", status: "2.0.0", remoteMta: hostName(d.host), diagnosticCode: `smtp; ${d.reply}` })), log);
      }
    }

    if (later.length > 0) {
      const warn = this.settings.POSTLINE_DELIVERY_DELAY_WARNING;
      const delayed = later.filter(
        (l) => warn > 0 && !l.claim.delayNotified && now - message.receivedAt.getTime() >= warn && this.notices(message, l.outcome.recipient, "DELAY"),
      );
      const notice = delayed.length > 0
        ? await this.notify(
            message,
            delayed.map((l) => ({ ...this.dsnFailure(l.outcome, "delayed"), willRetryUntil: message.expiresAt })),
            log,
          )
        : null;
      const notified = new Set(delayed.map((l) => l.outcome.recipient));
      await this.queue.deferred(
        message.mailId,
        later.map((l) => ({
          recipient: l.outcome.recipient,
          error: l.outcome.error,
          ...(l.outcome.host ? { host: l.outcome.host } : {}),
          nextAttemptAt: l.next,
          ...(notice && notified.has(l.outcome.recipient) ? { delayNotified: notice } : {}),
        })),
      );
      metrics.remoteAttempts.inc({ outcome: "deferred" }, later.length);
      log.info({ recipients: later.map((l) => l.outcome.recipient), error: later[0]!.outcome.error, next: later[0]!.next }, "remote delivery: deferred");
      await this.scheduleRetries(message.mailId, later.map((l) => ({ recipient: l.outcome.recipient, attempts: l.claim.attempts, next: l.next })), log);
    }

    if (permanent.length > 0) {
      const noticeFor = permanent.filter((p) => this.notices(message, p.recipient, "FAILURE"));
      const dsnId = noticeFor.length > 0 ? await this.notify(message, noticeFor.map((p) => this.dsnFailure(p, "failed")), log) : null;
      await this.queue.bounced(message.mailId, permanent.map((p) => ({ recipient: p.recipient, error: p.error, ...(p.host ? { host: p.host } : {}) })), dsnId);
      metrics.remoteAttempts.inc({ outcome: "bounced" }, permanent.length);
      log.warn({ recipients: permanent.map((p) => p.recipient), error: permanent[0]!.error, dsn: dsnId }, "remote delivery: bounced");
    }
  }

  /** Whether the sender gets a notice of this kind about this recipient. Never to the null sender, never about a notice. */
  private notices(message: OutboundMessage, recipient: string, kind: "SUCCESS" | "FAILURE" | "DELAY"): boolean {
    if (message.sender === "" || message.source === "dsn") return false;
    return wantsNotice(rcptParams(message.envelope.dsn.rcpt, recipient)?.notify, kind);
  }

  private dsnFailure(o: Failure, action: "failed" | "delayed"): DsnRecipient {
    const code = diagnosticCode(o.error);
    const mta = hostName(o.host);
    return {
      finalRecipient: o.recipient,
      action,
      status: o.status,
      ...(mta ? { remoteMta: mta } : {}),
      ...(code ? { diagnosticCode: code } : {}),
      lastAttemptDate: new Date(),
    };
  }

  /** Sends a notice; a failure to send it is logged and the recipient's outcome still recorded. */
  private async notify(message: OutboundMessage, recipients: DsnRecipient[], log: Logger): Promise<string | null> {
    try {
      const id = await sendNotice({ bus: this.deps.bus, blobs: this.deps.blobs, hostname: this.settings.POSTLINE_HOSTNAME }, message, recipients);
      this.deps.metrics.notices.inc({ action: recipients[0]!.action }, recipients.length);
      log.info({ dsn: id, action: recipients[0]!.action, recipients: recipients.map((r) => r.finalRecipient) }, "remote delivery: DSN sent to the sender");
      return id;
    } catch (err) {
      log.error({ err }, "remote delivery: could not send the DSN");
      return null;
    }
  }

  /** One retry record per recipient on the tier of its attempt; a lost record is caught by the sweep. */
  private async scheduleRetries(mailId: string, items: { recipient: string; attempts: number; next: Date }[], log: Logger): Promise<void> {
    const byTopic = new Map<string, Buffer[]>();
    for (const item of items) {
      const topic = retryTopic(RetryTiers[Math.min(item.attempts, RetryTiers.length) - 1]!);
      const value = encodeEvent(deliveryRetry, { v: 1, id: mailId, rcpt: item.recipient, attempt: item.attempts, notBefore: item.next.toISOString() });
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), value]);
    }
    try {
      for (const [topic, values] of byTopic) await this.deps.bus.produce(topic, values.map((value) => ({ key: mailId, value })));
    } catch (err) {
      log.warn({ err }, "remote delivery: could not publish retry records; the sweep will pick the recipients up");
    }
  }
}
