import { Resolver } from "node:dns/promises";
import { openBlobStore, type BlobStore } from "@postline/blobstore";
import { Topics, openBus, type Bus } from "@postline/bus";
import { addDomain, createAccount } from "@postline/directory";
import { generateDkimKey, type DkimKeyInfo } from "@postline/dkim";
import { encodeEvent, mailAccepted, mailClassified, newMailId, publishEvent } from "@postline/events";
import { readStored } from "./installation.ts";
import {
  SmtpClient,
  clusterEnv,
  createTestDatabase,
  sendTransaction,
  startDnsServer,
  startServiceProcess,
  testInfra,
  type DnsServer,
  type DnsZones,
  type ServiceProcess,
  type TestDatabase,
} from "@postline/testkit";

// Outbound mail end to end: submission, spam-filter and one or more delivery processes in cluster
// mode on the real Kafka, PostgreSQL and MinIO; remote MX hosts found through the test DNS server,
// all on one port (POSTLINE_DELIVERY_SMTP_PORT), each on its own loopback address.

export const SENDER_DOMAIN = "sender.test";
export const HOSTNAME = "mail.sender.test";
export const PASSWORD = "a long enough sender password";

export interface OutboundOptions {
  /** Receiving MX hosts: domain → { host name → address }. */
  destinations: Record<string, { host: string; address: string }>;
  /** The port every MX host listens on. */
  smtpPort: number;
  /** Local accounts at sender.test (default ["alice"]). */
  accounts?: string[];
  /** RSA and Ed25519 keys for sender.test, published in the test DNS (default true). */
  dkim?: boolean;
  deliveryProcesses?: number;
  env?: Record<string, string>;
  zones?: DnsZones;
}

export interface DeliveryRow {
  mail_id: string;
  recipient: string;
  sender: string;
  status: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: Date | null;
  remote_reply: string | null;
  remote_host: string | null;
  domain: string | null;
  resends: number;
  sending_since: Date | null;
  dsn_mail_id: string | null;
  lease_owner: string | null;
  lease_expires: Date | null;
}

export interface StoredMail {
  mail_id: string;
  mailbox: string;
  subject: string | null;
  raw: string;
}

export class OutboundWorld {
  readonly delivery: ServiceProcess[] = [];
  readonly others: ServiceProcess[] = [];
  submissionPort = 0;
  bus!: Bus;
  blobs!: BlobStore;
  dkimKeys: DkimKeyInfo[] = [];

  constructor(
    readonly database: TestDatabase,
    readonly dns: DnsServer,
    readonly env: Record<string, string>,
  ) {}

  /** A resolver asking the test DNS server (for DKIM verification at the "receiver"). */
  resolver(): (name: string, type: string) => Promise<unknown> {
    const r = new Resolver({ timeout: 2000, tries: 2 });
    r.setServers([this.dns.address]);
    return (name, type) => r.resolve(name, type);
  }

  async startDelivery(): Promise<ServiceProcess> {
    const p = await startServiceProcess("delivery", { ...this.env, POSTLINE_KAFKA_CLIENT_ID: `delivery-${this.delivery.length + 1}` });
    this.delivery.push(p);
    return p;
  }

  /** An authenticated submission session (STARTTLS, AUTH PLAIN) for `user@sender.test`. */
  async submissionSession(user = "alice"): Promise<SubmissionSession> {
    const c = await SmtpClient.connect(this.submissionPort);
    expect(await c.read(), 220, "greeting");
    expect(await c.command("EHLO client.sender.test"), 250, "EHLO");
    expect(await c.command("STARTTLS"), 220, "STARTTLS");
    await c.startTls();
    expect(await c.command("EHLO client.sender.test"), 250, "EHLO after STARTTLS");
    const token = Buffer.from(`\0${user}@${SENDER_DOMAIN}\0${PASSWORD}`).toString("base64");
    expect(await c.command(`AUTH PLAIN ${token}`), 235, "AUTH");
    return new SubmissionSession(c);
  }

  /**
   * Puts a message into the outbound path behind the spam filter: the blob, then `mail.classified`
   * (verdict deliver) as if it had been submitted. For what submission refuses by design, such as
   * the null sender.
   */
  async publishClassified(raw: string | Buffer, envelope: { mailFrom: string; rcptTo: string[] }, source: "submission" | "inbound" = "submission"): Promise<string> {
    const blob = await this.blobs.put(Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "utf8"));
    const id = newMailId();
    await publishEvent(this.bus, Topics.mailClassified, mailClassified, id, {
      v: 1,
      id,
      blob: { key: blob.key, sha256: blob.sha256, size: blob.size },
      envelope: { mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo },
      client: { ip: "127.0.0.1", helo: "client.sender.test", tls: true, authUser: `alice@${SENDER_DOMAIN}` },
      receivedAt: new Date().toISOString(),
      source,
      verdict: { action: "deliver", score: 0, symbols: [], authResults: `${HOSTNAME}; none` },
    });
    return id;
  }

  /**
   * Many messages as submission would hand them on: each stored as a blob, then `mail.submitted`
   * events (authenticated as alice) in batches; the spam filter and delivery take it from there.
   * Returns the mail ids in order.
   */
  async publishSubmitted(messages: Array<{ raw: string; mailFrom: string; rcptTo: string[] }>, concurrency = 16): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < messages.length; start += 100) {
      const batch = messages.slice(start, start + 100);
      const records: Array<{ key: string; value: Buffer }> = new Array(batch.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, batch.length) }, async () => {
          while (next < batch.length) {
            const i = next++;
            const m = batch[i]!;
            const blob = await this.blobs.put(Buffer.from(m.raw, "utf8"));
            const id = newMailId();
            records[i] = {
              key: id,
              value: encodeEvent(mailAccepted, {
                v: 1,
                id,
                blob: { key: blob.key, sha256: blob.sha256, size: blob.size },
                envelope: { mailFrom: m.mailFrom, rcptTo: m.rcptTo },
                client: { ip: "127.0.0.1", helo: "client.sender.test", tls: true, authUser: `alice@${SENDER_DOMAIN}` },
                receivedAt: new Date().toISOString(),
              }),
            };
          }
        }),
      );
      await this.bus.produce(Topics.mailSubmitted, records);
      ids.push(...records.map((r) => r.key));
    }
    return ids;
  }

  async deliveries(where = "TRUE", params: unknown[] = []): Promise<DeliveryRow[]> {
    const r = await this.database.db.query<DeliveryRow>(
      `SELECT mail_id, recipient, sender, status, attempts, last_error, next_attempt_at, remote_reply, remote_host, domain, resends, sending_since, dsn_mail_id,
              lease_owner, lease_expires
         FROM deliveries WHERE ${where} ORDER BY id`,
      params,
    );
    return r.rows;
  }

  /** The messages in a local account's mailboxes, with their stored bytes. */
  async mailboxOf(address: string): Promise<StoredMail[]> {
    const r = await this.database.db.query<{ mail_id: string; mailbox: string; subject: string | null; blob_hash: string; header_prefix: Uint8Array | null }>(
      `SELECT m.mail_id, b.name AS mailbox, m.subject, m.blob_hash, m.header_prefix
         FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
        WHERE a.address = $1 ORDER BY m.id`,
      [address],
    );
    const out: StoredMail[] = [];
    for (const row of r.rows) out.push({ mail_id: row.mail_id, mailbox: row.mailbox, subject: row.subject, raw: (await readStored(this.blobs, row)).toString("utf8") });
    return out;
  }

  /** The delivery logs of every process so far, as text (for failure messages). */
  deliveryLogs(last = 40): string {
    return this.delivery
      .flatMap((p, i) => p.logs.map((l) => `[delivery-${i + 1}] ${JSON.stringify(l)}`))
      .slice(-last)
      .join("\n");
  }

  async stop(): Promise<void> {
    for (const p of [...this.others].reverse()) await p.stop("SIGKILL");
    for (const p of this.delivery) await p.stop("SIGKILL");
    await this.bus?.close().catch(() => {});
    await this.dns.stop();
    await this.database.drop();
  }
}

export class SubmissionSession {
  constructor(readonly client: SmtpClient) {}

  /** One transaction; resolves with the mail id of `250 2.0.0 queued as <id>`. */
  async send(from: string, to: string[], message: string): Promise<string> {
    const reply = await sendTransaction(this.client, { from, to, message });
    const id = /queued as ([0-9A-Z]{26})/.exec(reply.raw)?.[1];
    if (reply.code !== 250 || !id) throw new Error(`submission refused the message: ${reply.raw}`);
    return id;
  }

  async quit(): Promise<void> {
    await this.client.quit();
  }
}

function expect(reply: { code: number; raw: string }, code: number, what: string): void {
  if (reply.code !== code) throw new Error(`${what}: expected ${code}, got ${reply.raw}`);
}

/** Database, DNS (MX + A of each destination, DKIM TXT), the services, a bus and blob store handle. */
export async function startOutbound(options: OutboundOptions): Promise<OutboundWorld> {
  const database = await createTestDatabase();
  await addDomain(database.db, SENDER_DOMAIN);
  for (const user of options.accounts ?? ["alice"]) await createAccount(database.db, { address: `${user}@${SENDER_DOMAIN}`, password: PASSWORD });
  const keys = options.dkim === false ? [] : await generateDkimKey(database.db, SENDER_DOMAIN, { algorithm: "both" });
  const hosts: Record<string, string> = {};
  const mx: Record<string, string> = {};
  for (const [domain, { host, address }] of Object.entries(options.destinations)) {
    hosts[host] = address;
    mx[domain] = host;
  }
  const dns = await startDnsServer({
    ...options.zones,
    hosts: { [HOSTNAME]: "127.0.0.1", ...hosts, ...options.zones?.hosts },
    mx: { ...mx, ...options.zones?.mx },
    txt: { ...Object.fromEntries(keys.map((k) => [k.dnsRecord.name, k.dnsRecord.value])), ...options.zones?.txt },
  });
  const env = clusterEnv(database.url, {
    POSTLINE_HOSTNAME: HOSTNAME,
    POSTLINE_DNS_SERVERS: dns.address,
    POSTLINE_SUBMISSION_HOST: "127.0.0.1",
    POSTLINE_SUBMISSION_PORT: "0",
    POSTLINE_SUBMISSIONS_PORT: "0",
    POSTLINE_DELIVERY_SMTP_PORT: String(options.smtpPort),
    POSTLINE_DELIVERY_RETRY_SCHEDULE: "2s,2s,4s",
    POSTLINE_DELIVERY_LEASE_SECONDS: "5",
    POSTLINE_DELIVERY_SWEEP_SECONDS: "2",
    POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS: "5",
    POSTLINE_DELIVERY_SMTP_TIMEOUT_SECONDS: "30",
    ...options.env,
  });
  const world = new OutboundWorld(database, dns, env);
  world.dkimKeys = keys;
  try {
    for (let i = 0; i < (options.deliveryProcesses ?? 1); i++) await world.startDelivery();
    world.others.push(await startServiceProcess("spam-filter", env));
    const submission = await startServiceProcess("submission", env);
    world.others.push(submission);
    world.submissionPort = Number(new URL(submission.listening.submission!.submission!).port);
    const infra = testInfra();
    world.bus = openBus({ kind: "kafka", brokers: infra.kafkaBrokers, clientId: "outbound-test", namespace: env.POSTLINE_BUS_NAMESPACE });
    world.blobs = await openBlobStore({
      kind: "s3",
      endpoint: env.POSTLINE_S3_ENDPOINT!,
      bucket: env.POSTLINE_S3_BUCKET!,
      accessKey: env.POSTLINE_S3_ACCESS_KEY!,
      secretKey: env.POSTLINE_S3_SECRET_KEY!,
    });
  } catch (err) {
    await world.stop().catch(() => {});
    throw err;
  }
  return world;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000, explain?: () => string | Promise<string>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${explain ? `\n${await explain()}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A MIME entity split into its header fields (unfolded, names lower-cased) and body. */
export interface Entity {
  headers: Map<string, string[]>;
  header(name: string): string | undefined;
  body: string;
}

export function entity(raw: string): Entity {
  const normalized = raw.replace(/\r?\n/g, "\r\n");
  const split = normalized.indexOf("\r\n\r\n");
  const head = split < 0 ? normalized : normalized.slice(0, split);
  const body = split < 0 ? "" : normalized.slice(split + 4);
  const headers = new Map<string, string[]>();
  for (const field of head.replace(/\r\n(?=[ \t])/g, "").split("\r\n")) {
    const colon = field.indexOf(":");
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), field.slice(colon + 1).trim()]);
  }
  return { headers, header: (name) => headers.get(name.toLowerCase())?.[0], body };
}

/** The parts of a multipart entity (one level). */
export function parts(e: Entity): Entity[] {
  const boundary = /boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(e.header("content-type") ?? "");
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) throw new Error(`not multipart: ${e.header("content-type")}`);
  const chunks = e.body.split(new RegExp(`(?:^|\\r\\n)--${b.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*(?:\\r\\n|$)`));
  // Drop the preamble and the epilogue.
  return chunks.slice(1, -1).map(entity);
}
