import { openBlobStore, type BlobStore } from "@postline/blobstore";
import { addAlias, addDomain, createAccount } from "@postline/directory";
import { contentOf, readContent } from "@postline/mailstore";
import { clusterEnv, createTestDatabase, startDnsServer, startServiceProcess, type DnsServer, type DnsZones, type ServiceProcess, type TestDatabase } from "@postline/testkit";

/** The inbound path as separate processes in cluster mode: inbound-mx, spam-filter, delivery. */
export interface Installation {
  database: TestDatabase;
  dns: DnsServer;
  env: Record<string, string>;
  blobs: BlobStore;
  services: Map<string, ServiceProcess>;
  mxPort: number;
  restart(name: string): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

export const INBOUND_SERVICES = ["delivery", "spam-filter", "inbound-mx"] as const;

/** The test domain: alice and bob, an alias to both, and the zones the mail tests need. */
export async function startInstallation(options: { zones?: DnsZones; env?: Record<string, string> } = {}): Promise<Installation> {
  const database = await createTestDatabase();
  await addDomain(database.db, "example.test");
  await createAccount(database.db, { address: "alice@example.test", password: "alice-password-1" });
  await createAccount(database.db, { address: "bob@example.test", password: "bob-password-12" });
  await addAlias(database.db, "team@example.test", "alice@example.test");
  await addAlias(database.db, "team@example.test", "bob@example.test");
  const dns = await startDnsServer({
    hosts: { "mx.example.test": "127.0.0.1", "sender.good.test": "127.0.0.1" },
    mx: { "example.test": "mx.example.test" },
    txt: {
      "good.test": "v=spf1 ip4:127.0.0.1 -all",
      "_dmarc.good.test": "v=DMARC1; p=reject",
      "forged.test": "v=spf1 ip4:192.0.2.1 -all",
      "_dmarc.forged.test": "v=DMARC1; p=reject",
      "soft.test": "v=spf1 ip4:192.0.2.1 ~all",
    },
    ...options.zones,
  });
  const env = clusterEnv(database.url, { POSTLINE_MX_PORT: "0", POSTLINE_HOSTNAME: "mx.example.test", POSTLINE_DNS_SERVERS: dns.address, ...options.env });
  const services = new Map<string, ServiceProcess>();
  for (const name of INBOUND_SERVICES) services.set(name, await startServiceProcess(name, env));
  const mxPort = Number(/:(\d+)$/.exec(services.get("inbound-mx")!.listening["inbound-mx"]!.smtp!)![1]);
  const blobs = await openBlobStore({
    kind: "s3",
    endpoint: env.POSTLINE_S3_ENDPOINT!,
    bucket: env.POSTLINE_S3_BUCKET!,
    accessKey: env.POSTLINE_S3_ACCESS_KEY!,
    secretKey: env.POSTLINE_S3_SECRET_KEY!,
  });
  return {
    database,
    dns,
    env,
    blobs,
    services,
    mxPort,
    async restart(name) {
      const started = await startServiceProcess(name, env);
      services.set(name, started);
      return started;
    },
    async stop() {
      for (const name of [...INBOUND_SERVICES].reverse()) await services.get(name)?.stop("SIGKILL");
      await dns.stop();
      await database.drop();
    },
  };
}

export interface StoredMessage {
  address: string;
  mailbox: string;
  uid: number;
  size: number;
  blob_hash: string;
  header_prefix: Uint8Array | null;
  mail_id: string;
}

export async function storedMessages(install: Installation): Promise<StoredMessage[]> {
  const r = await install.database.db.query<StoredMessage>(
    `SELECT a.address, mb.name AS mailbox, m.uid, m.size, m.blob_hash, m.header_prefix, m.mail_id
       FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id JOIN accounts a ON a.id = mb.account_id
      ORDER BY m.id`,
  );
  return r.rows;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A stored message's bytes as IMAP serves them: the row's header prefix, then its blob. */
export function readStored(blobs: BlobStore, m: Pick<StoredMessage, "blob_hash" | "header_prefix">): Promise<Buffer> {
  return readContent(blobs, contentOf(m.blob_hash, m.header_prefix));
}
