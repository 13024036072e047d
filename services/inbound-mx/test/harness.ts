import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { FsBlobStore, type BlobStore } from "@postline/blobstore";
import { EmbeddedBus, Topics, allTopics, type Bus, type Consumer } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import type { Db } from "@postline/db";
import { addAlias, addDomain, createAccount, setDisabled } from "@postline/directory";
import { decodeEvent, mailAccepted, type MailAccepted } from "@postline/events";
import type { RunningService } from "@postline/platform";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, uniqueName, type TestDatabase } from "@postline/testkit";
import { startInboundMx, type InboundMxOptions } from "../src/index.ts";

/** The directory every test file uses: one local domain (and an IDN one) with a few kinds of recipient. */
export async function seedDirectory(db: Db): Promise<void> {
  await addDomain(db, "example.test");
  await addDomain(db, "bücher.test");
  const password = "a long enough test password";
  await createAccount(db, { address: "user@example.test", password });
  await createAccount(db, { address: "other@example.test", password });
  await createAccount(db, { address: "full@example.test", password, quotaBytes: 1000 });
  await db.query("UPDATE accounts SET used_bytes = 1000 WHERE address = 'full@example.test'");
  await createAccount(db, { address: "off@example.test", password });
  await setDisabled(db, "off@example.test", true);
  await createAccount(db, { address: "jösé@example.test", password });
  await createAccount(db, { address: "leser@bücher.test", password });
  await addAlias(db, "team@example.test", "user@example.test");
  await addAlias(db, "team@example.test", "other@example.test");
}

/** mail.received events as they arrive on the bus. */
export class EventCollector {
  readonly events: MailAccepted[] = [];
  private consumer: Consumer | undefined;

  async start(bus: Bus): Promise<void> {
    this.consumer = await bus.consume({
      groupId: uniqueName("mx-test"),
      topics: [Topics.mailReceived],
      handler: async (m) => {
        this.events.push(decodeEvent(mailAccepted, m));
      },
    });
  }

  async waitFor(id: string, timeoutMs = 10_000): Promise<MailAccepted> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.id === id);
      if (e) return e;
      if (Date.now() > until) throw new Error(`no mail.received event for ${id}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

export interface Mx {
  port: number;
  running: RunningService;
  registry: Registry;
  dataDir: string;
  stop(): Promise<void>;
}

/** Defaults for tests: loopback, random port, no DNS, no pregreet wait. */
export const TEST_ENV = {
  POSTLINE_MX_HOST: "127.0.0.1",
  POSTLINE_MX_PORT: "0",
  POSTLINE_HOSTNAME: "mx.example.test",
  POSTLINE_MX_REVERSE_DNS: "false",
  POSTLINE_MX_GREET_DELAY_MS: "0",
  POSTLINE_SESSION_REJECT_SPF_DMARC: "false",
  POSTLINE_MX_SHUTDOWN_GRACE_MS: "2000",
};

/**
 * The MX module started in this process on the given adapters, like runServices would start it.
 * Standalone mode unless `mode` says otherwise; its data directory is a fresh temp directory.
 */
export async function startMx(
  adapters: { db: Db; bus: Bus; blobs: BlobStore },
  env: Record<string, string> = {},
  options: InboundMxOptions & { mode?: "standalone" | "cluster"; dataDir?: string } = {},
): Promise<Mx> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "postline-mx-")));
  const fullEnv = { ...TEST_ENV, ...env, POSTLINE_DATA_DIR: dataDir };
  const config = parseConfig(platformSchema, { ...fullEnv, POSTLINE_MODE: "standalone" });
  if (options.mode === "cluster") Object.assign(config, { POSTLINE_MODE: "cluster" });
  const registry = new Registry();
  const logger = createLogger("inbound-mx-test", (process.env.POSTLINE_TEST_LOG_LEVEL as "info" | undefined) ?? "silent");
  const running = await startInboundMx({ config, env: fullEnv, logger, registry, ...adapters }, options);
  const port = Number(new URL(running.listening.smtp!).port);
  return {
    port,
    running,
    registry,
    dataDir,
    async stop() {
      await running.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LocalAdapters {
  blobs: FsBlobStore;
  bus: EmbeddedBus;
  blobsDir: string;
  close(): Promise<void>;
}

/** A blob store in a fresh temp directory and an embedded bus (with its topics) on `db`. */
export async function localAdapters(db: Db): Promise<LocalAdapters> {
  const blobsDir = await mkdtemp(join(tmpdir(), "postline-mx-blobs-"));
  const blobs = await FsBlobStore.open(blobsDir);
  const bus = new EmbeddedBus({ db, pollIntervalMs: 50 });
  await bus.createTopics(allTopics(2));
  return {
    blobs,
    bus,
    blobsDir,
    async close() {
      await bus.close();
      await rm(blobsDir, { recursive: true, force: true });
    },
  };
}

/** Number of stored blobs (files under the store's shard directories). */
export async function countBlobs(blobsDir: string): Promise<number> {
  const { readdir } = await import("node:fs/promises");
  let n = 0;
  for (const a of await readdir(blobsDir)) {
    if (a === "tmp") continue;
    for (const b of await readdir(join(blobsDir, a))) n += (await readdir(join(blobsDir, a, b))).length;
  }
  return n;
}

/** Records on mail.received in the embedded bus's log. */
export async function publishedCount(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM bus_records WHERE topic = $1", [Topics.mailReceived]);
  return r.rows[0]!.n;
}

/** The queue id of a `250 … queued as <id>` reply. */
export const queueIdOf = (text: string): string => /queued as (\S+)/.exec(text)![1]!;

export interface MxWorld {
  readonly db: Db;
  readonly adapters: LocalAdapters;
  readonly events: EventCollector;
  /** An MX on this world's database, bus and blobs. */
  start(env?: Record<string, string>, options?: Parameters<typeof startMx>[2]): Promise<Mx>;
}

/**
 * Registers the before/after hooks most test files share: a fresh migrated database with the test
 * directory, local adapters on it, and an event collector on mail.received.
 */
export function useMxWorld(hooks: { before(fn: () => Promise<void>): void; after(fn: () => Promise<void>): void }): MxWorld {
  let database: TestDatabase | undefined;
  let adapters: LocalAdapters | undefined;
  const events = new EventCollector();
  hooks.before(async () => {
    database = await createTestDatabase();
    await seedDirectory(database.db);
    adapters = await localAdapters(database.db);
    await events.start(adapters.bus);
  });
  hooks.after(async () => {
    await events.stop();
    await adapters?.close();
    await database?.drop();
  });
  return {
    get db() {
      return database!.db;
    },
    get adapters() {
      return adapters!;
    },
    events,
    start: (env = {}, options = {}) => startMx({ db: database!.db, bus: adapters!.bus, blobs: adapters!.blobs }, env, options),
  };
}
