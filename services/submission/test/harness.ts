import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { FsBlobStore } from "@postline/blobstore";
import { EmbeddedBus, Topics, allTopics, type Bus, type Consumer } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import type { Db } from "@postline/db";
import { addAlias, addDomain, createAccount } from "@postline/directory";
import { decodeEvent, mailAccepted, type MailAccepted } from "@postline/events";
import type { RunningService } from "@postline/platform";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, uniqueName, type TestDatabase } from "@postline/testkit";
import { startSubmission } from "../src/index.ts";
import { SmtpClient, sendTransaction, type Reply } from "@postline/testkit";

export const PASSWORD = "a long enough test password";

/** One local domain with two accounts; sales@ is an alias of user@, team@ one of other@. */
export async function seedDirectory(db: Db): Promise<void> {
  await addDomain(db, "example.test");
  await addDomain(db, "signed.test");
  await createAccount(db, { address: "user@example.test", password: PASSWORD });
  await createAccount(db, { address: "other@example.test", password: PASSWORD });
  await createAccount(db, { address: "writer@signed.test", password: PASSWORD });
  await addAlias(db, "sales@example.test", "user@example.test");
  await addAlias(db, "team@example.test", "other@example.test");
}

/** mail.submitted events as they arrive on the bus. */
export class EventCollector {
  readonly events: MailAccepted[] = [];
  private consumer: Consumer | undefined;

  async start(bus: Bus): Promise<void> {
    this.consumer = await bus.consume({
      groupId: uniqueName("submission-test"),
      topics: [Topics.mailSubmitted],
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
      if (Date.now() > until) throw new Error(`no mail.submitted event for ${id}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

export interface World {
  t: TestDatabase;
  blobs: FsBlobStore;
  bus: EmbeddedBus;
  events: EventCollector;
  running: RunningService;
  registry: Registry;
  port: number;
  tlsPort: number;
  close(): Promise<void>;
}

/** A fresh database, fs blobs, embedded bus, and the submission service on free loopback ports. */
export async function startWorld(env: Record<string, string> = {}): Promise<World> {
  const t = await createTestDatabase();
  await seedDirectory(t.db);
  const dir = await mkdtemp(join(tmpdir(), "postline-submission-"));
  const blobs = await FsBlobStore.open(join(dir, "blobs"));
  const bus = new EmbeddedBus({ db: t.db, pollIntervalMs: 50 });
  await bus.createTopics(allTopics(2));
  const events = new EventCollector();
  await events.start(bus);
  const fullEnv = {
    POSTLINE_SUBMISSION_HOST: "127.0.0.1",
    POSTLINE_SUBMISSION_PORT: "0",
    POSTLINE_SUBMISSIONS_PORT: "0",
    POSTLINE_HOSTNAME: "submit.example.test",
    POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS: "1000",
    ...env,
    POSTLINE_DATA_DIR: dir,
  };
  const config = parseConfig(platformSchema, { ...fullEnv, POSTLINE_MODE: "standalone" });
  const registry = new Registry();
  const logger = createLogger("submission-test", (process.env.POSTLINE_TEST_LOG_LEVEL as "info" | undefined) ?? "silent");
  const running = await startSubmission({ config, env: fullEnv, logger, registry, db: t.db, bus, blobs });
  return {
    t,
    blobs,
    bus,
    events,
    running,
    registry,
    port: Number(new URL(running.listening.submission!).port),
    tlsPort: Number(new URL(running.listening.submissions!).port),
    async close() {
      await running.stop();
      await events.stop();
      await bus.close();
      await t.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const plain = (user: string, password = PASSWORD) => Buffer.from(`\0${user}\0${password}`).toString("base64");

/** Connects to 587, STARTTLS, EHLO and (unless `user` is null) AUTH PLAIN; returns the client and the AUTH reply. */
export async function session(port: number, user: string | null = "user@example.test", password = PASSWORD): Promise<{ c: SmtpClient; auth: Reply | undefined }> {
  const c = await SmtpClient.connect(port);
  await c.read();
  await c.command("EHLO client.example.org");
  const tls = await c.command("STARTTLS");
  if (tls.code !== 220) throw new Error(`STARTTLS: ${tls.raw}`);
  await c.startTls();
  await c.command("EHLO client.example.org");
  const auth = user === null ? undefined : await c.command(`AUTH PLAIN ${plain(user, password)}`);
  return { c, auth };
}

/** MAIL, RCPTs, DATA, message: the reply of the first failing step, or of the message. */
export const transaction = sendTransaction;

export function message(from: string, extra = "", body = "Hello there.\r\n"): string {
  return `From: Someone <${from}>\r\nTo: friend@remote.example\r\nSubject: hi\r\n${extra}\r\n${body}`;
}

export const queueIdOf = (text: string): string => /queued as (\S+)/.exec(text)![1]!;

export async function readBlob(blobs: FsBlobStore, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await blobs.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
