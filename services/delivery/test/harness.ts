import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { FsBlobStore, type BlobStore } from "@postline/blobstore";
import { contentOf, readContent } from "@postline/mailstore";
import { Topics, allTopics, openBus, type Bus, type BusMessage } from "@postline/bus";
import { platformSchema } from "@postline/config";
import { mailClassified, mailboxChanged, newMailId, publishEvent, type MailClassified, type MailboxChanged } from "@postline/events";
import type { RunningService } from "@postline/platform";
import type { Db } from "@postline/db";
import { createPgliteDatabase, createTestDatabase } from "@postline/testkit";
import { deliveryService } from "../src/index.ts";

const quietBus = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/** The delivery service on a real database, an embedded bus in it, and a filesystem blob store. */
export interface Harness {
  t: { db: Db };
  bus: Bus;
  blobs: FsBlobStore;
  registry: Registry;
  /** Every mailbox.changed event published so far. */
  changes: MailboxChanged[];
  /** Stores `raw` and publishes a mail.classified event for it; returns the event. */
  send(raw: string | Buffer, options: SendOptions): Promise<MailClassified>;
  publish(event: MailClassified): Promise<void>;
  /** Resolves once the delivery group has committed every mail.classified record published so far. */
  drained(): Promise<void>;
  /** The value of a delivery counter for one outcome. */
  outcome(outcome: string): Promise<number>;
  close(): Promise<void>;
}

export interface SendOptions {
  rcptTo: string[];
  mailFrom?: string;
  action?: MailClassified["verdict"]["action"];
  score?: number;
  symbols?: MailClassified["verdict"]["symbols"];
  source?: MailClassified["source"];
}

export async function startHarness(env: Record<string, string> = {}, options: { pglite?: boolean } = {}): Promise<Harness> {
  let t: { db: Db; drop(): Promise<void> };
  if (options.pglite) {
    const db = await createPgliteDatabase();
    t = { db, drop: () => db.close() };
  } else {
    t = await createTestDatabase();
  }
  const dir = await mkdtemp(join(tmpdir(), "delivery-"));
  const blobs = await FsBlobStore.open(dir);
  const bus = openBus({ kind: "embedded", db: t.db, pollIntervalMs: 25, heartbeatIntervalMs: 150, sessionTimeoutMs: 3000, trimIntervalMs: 0, retry: { initialMs: 50, maxMs: 500 }, logger: quietBus });
  await bus.createTopics(allTopics(4));
  const registry = new Registry();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const running: RunningService = await deliveryService.start({
    config: platformSchema.parse({}),
    env: { POSTLINE_BLOB_GC_INTERVAL_SECONDS: "0", ...env },
    logger,
    registry,
    db: t.db,
    bus,
    blobs,
  });
  const changes: MailboxChanged[] = [];
  const watcher = await bus.consume({
    groupId: "test-watcher",
    topics: [Topics.mailboxChanged],
    handler: async (m: BusMessage) => {
      const event = mailboxChanged.parse(JSON.parse(m.value.toString("utf8")));
      if (m.key !== String(event.accountId)) throw new Error(`mailbox.changed keyed ${m.key}, not by account`);
      changes.push(event);
    },
  });

  const publish = (event: MailClassified) => publishEvent(bus, Topics.mailClassified, mailClassified, event.id, event);
  return {
    t,
    bus,
    blobs,
    registry,
    changes,
    publish,
    async send(raw, options) {
      const ref = await blobs.put(Buffer.from(raw));
      const event: MailClassified = {
        v: 1,
        id: newMailId(),
        blob: ref,
        envelope: { mailFrom: options.mailFrom ?? "sender@remote.example", rcptTo: options.rcptTo, smtpUtf8: false, body: "8BITMIME", dsn: { rcpt: {} } },
        client: { ip: "192.0.2.10", helo: "mx.remote.example", tls: true },
        receivedAt: new Date().toISOString(),
        sessionSymbols: [],
        source: options.source ?? "inbound",
        verdict: {
          action: options.action ?? "deliver",
          score: options.score ?? 0.5,
          symbols: options.symbols ?? [{ name: "DKIM_PASS", score: -0.5 }, { name: "MISSING_DATE", score: 1 }],
          authResults: "mx.postline.test;\r\n\tspf=pass smtp.mailfrom=remote.example;\r\n\tdkim=pass header.d=remote.example",
        },
      };
      await publish(event);
      return event;
    },
    async drained() {
      await eventually(async () => {
        const r = await t.db.query<{ pending: number }>(
          `SELECT count(*)::int AS pending FROM bus_records r
            WHERE r.topic = $1
              AND r."offset" >= COALESCE((SELECT next_offset FROM bus_group_offsets o
                                          WHERE o.group_id = 'delivery' AND o.topic = r.topic AND o.partition = r.partition), 0)`,
          [Topics.mailClassified],
        );
        return r.rows[0]!.pending === 0;
      }, "delivery to consume every mail.classified record", 30_000); // PGlite on a busy machine is slow
    },
    async outcome(outcome) {
      const metric = await registry.getSingleMetric("postline_delivery_deliveries_total")!.get();
      return metric.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    },
    async close() {
      await watcher.stop();
      await running.stop();
      await bus.close();
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value other than undefined/false (10 s at most). */
export async function eventually<T>(check: () => Promise<T | undefined | false | null>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A message row's stored bytes: its header prefix, then its blob (libs/mailstore content.ts). */
export async function storedBytes(blobs: BlobStore, row: { blob_hash: string; header_prefix: Uint8Array | null }): Promise<Buffer> {
  return readContent(blobs, contentOf(row.blob_hash, row.header_prefix));
}
