import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openBlobStore, type BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import { addDomain, createAccount } from "@postline/directory";
import { appendMessage, findMailboxByName } from "@postline/mailstore";
import { parseMessageBuffer } from "@postline/mime";
import { clusterEnv, createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from "@postline/testkit";
import { selfSignedKeyPair } from "@postline/tls";

export const run = promisify(execFile);

/** One running imap-pop3 process and the ports from its ready line. */
export interface ImapService {
  process: ServiceProcess;
  host: string;
  imap: number;
  imaps: number;
  pop3: number;
  pop3s: number;
}

/** Every port setting 0 (a free port each), plaintext authentication as configured by the caller. */
export const IMAP_PORTS_ENV = { POSTLINE_IMAP_PORT: "0", POSTLINE_IMAPS_PORT: "0", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0" };

/** Starts `services/imap-pop3` as its own process with `env` (a clusterEnv) and reads its ports. */
export async function startImapService(env: Record<string, string>): Promise<ImapService> {
  const process = await startServiceProcess("imap-pop3", { ...IMAP_PORTS_ENV, ...env });
  return { process, host: "127.0.0.1", ...portsOf(process) };
}

/** The listening URLs of the ready line, e.g. { imap: "imap://127.0.0.1:40123", imaps: …, pop3: …, pop3s: … }. */
export function portsOf(p: ServiceProcess): { imap: number; imaps: number; pop3: number; pop3s: number } {
  const urls: Record<string, string> = {};
  for (const group of Object.values(p.listening)) Object.assign(urls, group);
  const port = (name: string) => {
    const url = urls[name];
    const m = url ? /:(\d+)\/?$/.exec(url) : null;
    if (!m) throw new Error(`imap-pop3 ready line has no ${name} URL: ${JSON.stringify(p.listening)}`);
    return Number(m[1]);
  };
  return { imap: port("imap"), imaps: port("imaps"), pop3: port("pop3"), pop3s: port("pop3s") };
}

export function blobStoreOf(env: Record<string, string>): Promise<BlobStore> {
  return openBlobStore({
    kind: "s3",
    endpoint: env.POSTLINE_S3_ENDPOINT!,
    bucket: env.POSTLINE_S3_BUCKET!,
    accessKey: env.POSTLINE_S3_ACCESS_KEY!,
    secretKey: env.POSTLINE_S3_SECRET_KEY!,
  });
}

export async function accountIdOf(db: Db, address: string): Promise<number> {
  const r = await db.query<{ id: number }>("SELECT id FROM accounts WHERE address = $1", [address]);
  if (!r.rows[0]) throw new Error(`no account ${address}`);
  return r.rows[0].id;
}

/**
 * Appends messages straight into the store, as delivery does (blob put, parsed structure,
 * appendMessage), `parallel` at a time. Returns each message's UID (uids[i] is messages[i]'s);
 * with parallel = 1 the UIDs follow the order of `messages`.
 */
export async function seedMailbox(db: Db, blobs: BlobStore, address: string, mailboxName: string, messages: Buffer[], parallel = 1): Promise<number[]> {
  const accountId = await accountIdOf(db, address);
  const mailbox = await findMailboxByName(db, accountId, mailboxName);
  if (!mailbox) throw new Error(`${address} has no ${mailboxName}`);
  const uids = new Array<number>(messages.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, parallel) }, async () => {
      while (next < messages.length) {
        const i = next++;
        const ref = await blobs.put(messages[i]!);
        const r = await appendMessage(db, {
          accountId,
          mailboxId: mailbox.id,
          blob: { key: ref.key, size: ref.size },
          internalDate: new Date(Date.UTC(2026, 0, 1) + i * 60_000),
          structure: parseMessageBuffer(messages[i]!),
        });
        uids[i] = r.uid;
      }
    }),
  );
  return uids;
}

/** Runs a program with stdin, resolving with its output; rejects with the output on a non-zero exit. */
export function runWithInput(cmd: string, args: string[], input: string, options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} exited ${code ?? signal}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    });
    child.stdin.end(input);
  });
}

/** A certificate for "localhost" in files the service reads, and its PEM for clients to trust. */
export interface TestCertificate {
  dir: string;
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export async function testCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "postline-imap-tls-"));
  const pair = await selfSignedKeyPair("localhost");
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  await writeFile(certPath, pair.cert);
  await writeFile(keyPath, pair.key, { mode: 0o600 });
  return { dir, certPath, keyPath, cert: pair.cert, key: pair.key };
}

/** Service settings for a certificate made for "localhost", listeners on loopback only. */
export function tlsEnv(cert: TestCertificate): Record<string, string> {
  return { POSTLINE_TLS_CERT: cert.certPath, POSTLINE_TLS_KEY: cert.keyPath, POSTLINE_IMAP_HOST: "127.0.0.1", POSTLINE_HOSTNAME: "localhost" };
}

/**
 * imap-pop3 alone in cluster mode (no inbound services): its own database, namespace and bucket,
 * domain example.test, the given accounts, a certificate for localhost. `processes` > 1 starts
 * several imap-pop3 processes on the same database and bus.
 */
export interface ImapInstallation {
  database: TestDatabase;
  env: Record<string, string>;
  blobs: BlobStore;
  cert: TestCertificate;
  services: ImapService[];
  stop(): Promise<void>;
}

export async function startImapInstallation(options: { accounts: { address: string; password: string }[]; processes?: number; env?: Record<string, string> }): Promise<ImapInstallation> {
  const database = await createTestDatabase();
  await addDomain(database.db, "example.test");
  for (const a of options.accounts) await createAccount(database.db, a);
  const cert = await testCertificate();
  const env = clusterEnv(database.url, { ...IMAP_PORTS_ENV, ...tlsEnv(cert), ...options.env });
  const blobs = await blobStoreOf(env);
  const services: ImapService[] = [];
  try {
    for (let i = 0; i < (options.processes ?? 1); i++) services.push(await startImapService(env));
  } catch (err) {
    for (const s of services) await s.process.stop("SIGKILL");
    await database.drop();
    throw err;
  }
  return {
    database,
    env,
    blobs,
    cert,
    services,
    async stop() {
      for (const s of services) await s.process.stop();
      await database.drop();
      await rm(cert.dir, { recursive: true, force: true });
    },
  };
}

/** The file names of a Maildir folder's messages (cur and new) with their contents. */
export async function readMaildir(folder: string): Promise<{ path: string; name: string; bytes: Buffer }[]> {
  const out: { path: string; name: string; bytes: Buffer }[] = [];
  for (const sub of ["cur", "new"]) {
    for (const name of await readdir(join(folder, sub)).catch(() => [] as string[])) {
      const path = join(folder, sub, name);
      out.push({ path, name, bytes: await readFile(path) });
    }
  }
  return out;
}

export interface MbsyncOptions {
  dir: string;
  port: number;
  user: string;
  password: string;
  /** The PEM file of the server's (self-signed) certificate. */
  certPath: string;
  tls: "IMAPS" | "STARTTLS";
}

/** Writes an mbsync config syncing the server's INBOX with `<dir>/mail/INBOX` and runs `mbsync -a`. */
export async function mbsync(o: MbsyncOptions): Promise<{ stdout: string; stderr: string }> {
  await mkdir(join(o.dir, "mail"), { recursive: true });
  const rc = join(o.dir, "mbsyncrc");
  await writeFile(
    rc,
    `IMAPAccount server
Host localhost
Port ${o.port}
User ${o.user}
Pass ${o.password}
SSLType ${o.tls}
CertificateFile ${o.certPath}
AuthMechs LOGIN
PipelineDepth 50

IMAPStore server-remote
Account server

MaildirStore local
Path ${o.dir}/mail/
Inbox ${o.dir}/mail/INBOX
SubFolders Verbatim

Channel inbox
Far :server-remote:
Near :local:
Patterns INBOX
Create Near
Sync All
Expunge Both
SyncState *
`,
    { mode: 0o600 },
  );
  return run("mbsync", ["-c", rc, "-a"], { env: { ...process.env, HOME: o.dir }, maxBuffer: 1 << 24, timeout: 120_000 });
}

export interface FetchmailOptions {
  dir: string;
  port: number;
  user: string;
  password: string;
  certPath: string;
  /** pop3s: implicit TLS; stls: STLS on the plain port (required: sslcertck refuses to go on without it). */
  tls: "pop3s" | "stls";
  keep: boolean;
}

/**
 * Downloads the mailbox with fetchmail over POP3 into `<dir>/out/`, one file a message through an
 * MDA that writes its input unchanged: no Received header of fetchmail's own (`invisible`), CRs kept
 * (`no stripcr`), no address rewriting. Returns the files in the order fetchmail delivered them.
 */
export async function fetchmail(o: FetchmailOptions): Promise<Buffer[]> {
  const out = join(o.dir, "out");
  await mkdir(out, { recursive: true });
  const mda = join(o.dir, "mda.sh");
  await writeFile(mda, `#!/bin/sh\nn=$(ls "${out}" | wc -l)\ncat > "${out}/$(printf %05d $((n + 1))).eml"\n`, { mode: 0o755 });
  const rc = join(o.dir, "fetchmailrc");
  await writeFile(
    rc,
    `set no bouncemail
set no syslog
poll localhost protocol POP3 port ${o.port}
  user "${o.user}" there with password "${o.password}" is "root" here
  ${o.tls === "pop3s" ? "ssl" : "sslproto tls1.2+"} sslcertck sslcertfile "${o.certPath}"
  ${o.keep ? "keep" : "no keep"} fetchall
  no rewrite no stripcr no forcecr no mimedecode
  mda "${mda}"
`,
    { mode: 0o600 },
  );
  await run("fetchmail", ["-f", rc, "--invisible", "--nodetach", "-v"], {
    env: { ...process.env, HOME: o.dir, FETCHMAILHOME: o.dir },
    maxBuffer: 1 << 24,
    timeout: 120_000,
  }).catch((err: Error & { code?: number; stdout?: string; stderr?: string }) => {
    // 1: no mail; anything else is a failure.
    if (err.code !== 1) throw new Error(`fetchmail failed (${err.code}): ${err.stdout}\n${err.stderr}`);
  });
  const names = (await readdir(out)).sort();
  const files: Buffer[] = [];
  for (const n of names) files.push(await readFile(join(out, n)));
  await rm(out, { recursive: true, force: true });
  return files;
}

/** curl's output for a URL (imaps://…/INBOX;UID=n, pop3s://…/1), trusting the test certificate. */
export async function curl(url: string, user: string, password: string, certPath: string, extra: string[] = []): Promise<Buffer> {
  const r = await run("curl", ["--silent", "--show-error", "--cacert", certPath, "--user", `${user}:${password}`, ...extra, url], { encoding: "buffer", maxBuffer: 1 << 26, timeout: 60_000 });
  return r.stdout;
}
