import { mkdtemp, rm } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { Registry } from "prom-client";
import { FsBlobStore } from "@postline/blobstore";
import { EmbeddedBus, allTopics, openBus, type Bus } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import type { Db } from "@postline/db";
import { addDomain, createAccount } from "@postline/directory";
import type { RunningService } from "@postline/platform";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, testKafkaBrokers, uniqueName, type TestDatabase } from "@postline/testkit";
import { startImapPop3 } from "../src/service.ts";

export interface TestAccount {
  id: number;
  address: string;
  password: string;
}

/** Ports of one running imap-pop3 service. */
export interface ImapPorts {
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

export interface ImapInstance {
  running: RunningService;
  ports: ImapPorts;
  registry: Registry;
  bus: Bus;
  stop(): Promise<void>;
}

export interface ImapTestServer extends ImapInstance {
  db: Db;
  database: TestDatabase;
  blobs: FsBlobStore;
  blobsDir: string;
  alice: TestAccount;
  bob: TestAccount;
  /** Another imap-pop3 "process" on the same database and blob store, with its own bus client and notifier. */
  startAnother(env?: Record<string, string>): Promise<ImapInstance>;
  /** Stops every instance and drops the database. */
  close(): Promise<void>;
}

/** Loopback, free ports, quick shutdown. Plaintext authentication stays off: tests use STARTTLS like clients should. */
export const TEST_ENV: Record<string, string> = {
  POSTLINE_IMAP_HOST: "127.0.0.1",
  POSTLINE_IMAP_PORT: "0",
  POSTLINE_IMAPS_PORT: "0",
  POSTLINE_POP3_PORT: "0",
  POSTLINE_POP3S_PORT: "0",
  POSTLINE_HOSTNAME: "imap.example.test",
  POSTLINE_IMAP_SHUTDOWN_GRACE_MS: "2000",
};

const portOf = (url: string | undefined) => Number(new URL(url!).port);

/** Which bus the instances use: the embedded one on the test database, or Kafka under a namespace of the test's own. */
export type TestBusKind = { kind: "embedded" } | { kind: "kafka"; namespace: string };

function testBus(db: Db, which: TestBusKind): Bus {
  if (which.kind === "embedded") return new EmbeddedBus({ db, pollIntervalMs: 50 });
  return openBus({
    kind: "kafka",
    brokers: testKafkaBrokers(),
    clientId: "imap-test",
    namespace: which.namespace,
    sessionTimeoutMs: 6_000,
    heartbeatIntervalMs: 500,
    rebalanceTimeoutMs: 6_000,
    maxWaitTimeMs: 250,
  });
}

async function startInstance(db: Db, blobs: FsBlobStore, dataDir: string, env: Record<string, string>, which: TestBusKind): Promise<ImapInstance> {
  const bus = testBus(db, which);
  await bus.createTopics(allTopics(2));
  const fullEnv = { ...TEST_ENV, ...env, POSTLINE_DATA_DIR: dataDir };
  const config = parseConfig(platformSchema, { ...fullEnv, POSTLINE_MODE: "standalone" });
  const registry = new Registry();
  const logger = createLogger("imap-test", (process.env.POSTLINE_TEST_LOG_LEVEL as "info" | undefined) ?? "silent");
  const running = await startImapPop3({ config, env: fullEnv, logger, registry, db, bus, blobs });
  const l = running.listening;
  return {
    running,
    registry,
    bus,
    ports: { imap: portOf(l.imap), imaps: portOf(l.imaps), pop3: portOf(l.pop3), pop3s: portOf(l.pop3s) },
    async stop() {
      await running.stop();
      await bus.close();
    },
  };
}

/**
 * The imap-pop3 service started in this process on free loopback ports, with a fresh migrated
 * PostgreSQL database, a filesystem blob store, the embedded bus on that database, and two accounts:
 * alice@example.test and bob@example.test (default mailboxes INBOX, Drafts, Sent, Junk, Trash, Archive).
 */
export async function startImapServer(options: { env?: Record<string, string>; bus?: "embedded" | "kafka" } = {}): Promise<ImapTestServer> {
  const which: TestBusKind = options.bus === "kafka" ? { kind: "kafka", namespace: `${uniqueName("imap")}.` } : { kind: "embedded" };
  const database = await createTestDatabase();
  const db = database.db;
  await addDomain(db, "example.test");
  const alice = { address: "alice@example.test", password: "alice's long password" };
  const bob = { address: "bob@example.test", password: "bob's long password" };
  const a = await createAccount(db, alice);
  const b = await createAccount(db, bob);
  const dataDir = await mkdtemp(join(tmpdir(), "postline-imap-"));
  const blobsDir = join(dataDir, "blobs");
  const blobs = await FsBlobStore.open(blobsDir);
  const first = await startInstance(db, blobs, dataDir, options.env ?? {}, which);
  const others: ImapInstance[] = [];
  let closed = false;
  return {
    ...first,
    db,
    database,
    blobs,
    blobsDir,
    alice: { ...alice, id: Number(a.id) },
    bob: { ...bob, id: Number(b.id) },
    async startAnother(env = {}) {
      const other = await startInstance(db, blobs, dataDir, { ...(options.env ?? {}), ...env }, which);
      others.push(other);
      return other;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const o of others) await o.stop().catch(() => {});
      await first.stop().catch(() => {});
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** One response: an untagged or continuation line with any literals it carries joined in. */
export interface TaggedReply {
  untagged: string[];
  tagged: string;
}

/**
 * A raw IMAP client over a socket for protocol-level tests: it writes exactly what it is given and
 * reads responses line by line (a line ending in `{n}` carries the next n octets with it).
 */
export class RawImap {
  private buffer = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private ended = false;
  private counter = 0;
  socket: Socket | TLSSocket;

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<RawImap> {
    const socket = await new Promise<Socket | TLSSocket>((resolve, reject) => {
      const s = options.tls
        ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "imap.example.test" }, () => resolve(s))
        : netConnect({ host: "127.0.0.1", port }, () => resolve(s));
      s.once("error", reject);
    });
    return new RawImap(socket);
  }

  private listen(socket: Socket | TLSSocket): void {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiter?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.waiter?.();
    });
    socket.on("error", () => {});
  }

  get closed(): boolean {
    return this.ended;
  }

  write(text: string | Buffer): void {
    this.socket.write(text);
  }

  private async waitForData(deadline: number): Promise<void> {
    if (this.ended) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer.toString())}`);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`timed out waiting for a response; unread: ${JSON.stringify(this.buffer.toString())}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, remaining);
      this.waiter = () => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
    });
  }

  /** The next response line (CRLF removed), literals included; null when the server closed. */
  async readLine(timeoutMs = 10_000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    let out = "";
    for (;;) {
      const lf = this.buffer.indexOf("\r\n");
      if (lf === -1) {
        if (this.ended) return out === "" && this.buffer.length === 0 ? null : out + this.buffer.toString();
        await this.waitForData(deadline);
        continue;
      }
      const line = this.buffer.subarray(0, lf).toString("utf8");
      this.buffer = this.buffer.subarray(lf + 2);
      out += line;
      const literal = /\{(\d+)\}$/.exec(line);
      if (!literal) return out;
      const n = Number(literal[1]);
      out += "\r\n";
      while (this.buffer.length < n) await this.waitForData(deadline);
      out += this.buffer.subarray(0, n).toString("utf8");
      this.buffer = this.buffer.subarray(n);
    }
  }

  /** Lines until the one tagged `tag`. */
  async readTagged(tag: string, timeoutMs = 10_000): Promise<TaggedReply> {
    const untagged: string[] = [];
    for (;;) {
      const line = await this.readLine(timeoutMs);
      if (line === null) throw new Error(`connection closed before ${tag} completed; got ${JSON.stringify(untagged)}`);
      if (line.startsWith(`${tag} `)) return { untagged, tagged: line };
      untagged.push(line);
    }
  }

  /** Sends `<tag> <text>` and reads its responses. */
  async command(text: string, timeoutMs?: number): Promise<TaggedReply> {
    const tag = `T${++this.counter}`;
    this.write(`${tag} ${text}\r\n`);
    return this.readTagged(tag, timeoutMs);
  }

  /** STARTTLS and the handshake; the client then talks over TLS. */
  async startTls(): Promise<TaggedReply> {
    const reply = await this.command("STARTTLS");
    if (!/ OK/.test(reply.tagged)) return reply;
    const raw = this.socket as Socket;
    raw.removeAllListeners("data");
    raw.removeAllListeners("close");
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "imap.example.test" }, () => resolve(s));
      s.once("error", reject);
    });
    this.socket = secure;
    this.buffer = Buffer.alloc(0);
    this.listen(secure);
    return reply;
  }

  /** STARTTLS, then LOGIN. */
  async loginTls(account: { address: string; password: string }): Promise<TaggedReply> {
    await this.startTls();
    return this.command(`LOGIN ${JSON.stringify(account.address)} ${JSON.stringify(account.password)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A connected client after greeting. */
export async function rawClient(port: number, options: { tls?: boolean } = {}): Promise<{ client: RawImap; greeting: string }> {
  const client = await RawImap.connect(port, options);
  const greeting = (await client.readLine()) ?? "";
  return { client, greeting };
}

/** A small RFC 5322 message. */
export function testMessage(subject: string, body = "Hello.\r\n", from = "carol@example.org", to = "alice@example.test"): string {
  return `From: Carol <${from}>\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, "")}.${Date.now()}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}`;
}
