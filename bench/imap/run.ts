/**
 * pnpm bench:imap — IMAP session throughput and latency, against Dovecot on the same machine.
 *
 * One account's INBOX holds the same 1,000 messages (2–20 KB: plain, alternative, attachments) on
 * both servers: ours (services/imap-pop3 in cluster mode, its own process, on the real PostgreSQL,
 * Kafka and MinIO; filled through the mailstore as delivery does) and Debian's Dovecot (a private
 * instance with its own config and Maildir; the password checked against an argon2id hash made
 * with our parameters, as ours does). The same client (a raw-socket IMAP client, plaintext
 * on loopback for both) runs N = 10 and 50 concurrent clients, each in a loop: LOGIN, SELECT INBOX,
 * FETCH 1:* (FLAGS ENVELOPE), 100 × UID FETCH n BODY.PEEK[] (each body's size checked), LOGOUT.
 * Both servers run side by side and take turns at each N (ours, then Dovecot), so that a change
 * in the machine's load touches both alike.
 *
 * Memory (rss_peak_mb): the peak, sampled every 200 ms, of the sum of the proportional set sizes
 * (PSS) of the server's processes: our one process; Dovecot's master and every process under it.
 *
 * Prints a table, then one JSON object with the figures as the last line. Settings:
 * BENCH_SECONDS (per N per server, default 20), BENCH_CLIENTS (default "10,50"),
 * BENCH_SERVERS ("postline,dovecot" by default; "dovecot" alone checks the harness),
 * BENCH_ENV (a JSON object of extra service settings).
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { addDomain, createAccount, hashPassword } from "@postline/directory";
import { clusterEnv, createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from "@postline/testkit";
import { selfSignedKeyPair } from "@postline/tls";
import { startDovecot, treeRssKb, type DovecotInstance } from "../../test/e2e/support/dovecot.ts";
import { blobStoreOf, portsOf, seedMailbox, IMAP_PORTS_ENV } from "../../test/e2e/support/mail-clients.ts";
import { generateMessage } from "../../test/e2e/support/messages.ts";
import { runLoad, type LoadResult, type Target } from "./load.ts";
import { removeInstallation } from "../support/installation.ts";
import { round } from "../support/process-stats.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CLIENTS = (process.env.BENCH_CLIENTS ?? "10,50").split(",").map(Number);
const SERVERS = (process.env.BENCH_SERVERS ?? "postline,dovecot").split(",");
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const USER = "bench@bench.test";
const PASSWORD = "bench-password-123";

const messages = Array.from({ length: MESSAGES }, (_, i) => generateMessage(i + 1));
const sizes = new Map(messages.map((m, i) => [i + 1, m.length]));
const totalMb = messages.reduce((n, m) => n + m.length, 0) / 1048576;
console.error(`[bench] ${MESSAGES} messages, ${totalMb.toFixed(1)} MB`);

type Figures = Record<string, number>;
const results: Record<string, Figures> = {};

interface Server {
  target: Target;
  rssKb(): Promise<number>;
  stop(): Promise<void>;
}
const servers: Server[] = [];

try {
  if (SERVERS.includes("postline")) servers.push(await startPostline());
  if (SERVERS.includes("dovecot")) servers.push(await startReference());
  // Both servers run side by side and take turns at each N, so a change in the machine's load
  // during the run touches both alike.
  const peaks = new Map<string, number>();
  let sampling = true;
  const samplers = servers.map(async (s) => {
    await runLoad(s.target, 1, 0.001);
    while (sampling) {
      peaks.set(s.target.name, Math.max(peaks.get(s.target.name) ?? 0, await s.rssKb()));
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  for (const n of CLIENTS) {
    for (const s of servers) {
      const r: LoadResult = await runLoad(s.target, n, SECONDS);
      console.error(`[bench] ${s.target.name} N=${n}: ${r.sessions} sessions, ${r.bodies} bodies in ${r.seconds.toFixed(1)} s, ${r.errors} errors; p50/p99 ms: ${Object.entries(r.steps).map(([k, v]) => `${k} ${v.p50}/${v.p99}`).join(", ")}`);
      const figures = (results[s.target.name] ??= {});
      figures[`sessions_per_s_${n}`] = round(r.sessionsPerS);
      figures[`fetched_per_s_${n}`] = round(r.fetchedPerS);
      figures[`p99_ms_${n}`] = round(r.p99Ms);
      figures[`p99_fetch_ms_${n}`] = round(r.p99FetchMs);
      figures[`p50_fetch_ms_${n}`] = round(r.p50FetchMs);
      figures[`errors_${n}`] = r.errors;
    }
  }
  sampling = false;
  await Promise.all(samplers);
  for (const s of servers) results[s.target.name]!.rss_peak_mb = round((peaks.get(s.target.name) ?? 0) / 1024);
} finally {
  for (const s of servers) await s.stop();
}

/** Ours in cluster mode: its own database, namespace and bucket; the INBOX filled as delivery does. */
async function startPostline(): Promise<Server> {
  if (!existsSync(new URL("../../services/imap-pop3/src/main.ts", import.meta.url))) throw new Error("services/imap-pop3/src/main.ts does not exist yet: BENCH_SERVERS=dovecot runs Dovecot alone");
  const database: TestDatabase = await createTestDatabase();
  let service: ServiceProcess | undefined;
  try {
    await addDomain(database.db, "bench.test");
    await createAccount(database.db, { address: USER, password: PASSWORD });
    const env = clusterEnv(database.url, {
      ...IMAP_PORTS_ENV,
      POSTLINE_HOSTNAME: "localhost",
      POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true",
      // All load comes from 127.0.0.1.
      POSTLINE_IMAP_MAX_CONNECTIONS_PER_IP: "1000",
      POSTLINE_LOG_LEVEL: "warn",
      ...(JSON.parse(process.env.BENCH_ENV ?? "{}") as Record<string, string>),
    });
    const blobs = await blobStoreOf(env);
    const t0 = Date.now();
    const uids = await seedMailbox(database.db, blobs, USER, "INBOX", messages, 16);
    console.error(`[bench] postline: INBOX filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The ready line is logged at info; the load runs with the level the caller chose.
    service = await startServiceProcess("imap-pop3", { ...env, POSTLINE_LOG_LEVEL: env.POSTLINE_LOG_LEVEL === "warn" ? "info" : env.POSTLINE_LOG_LEVEL! });
    const started = service;
    const pid = started.child.pid!;
    return {
      target: { name: "postline", port: portsOf(started).imap, user: USER, password: PASSWORD, sizes: new Map(uids.map((u, i) => [u, messages[i]!.length])) },
      rssKb: () => treeRssKb(pid),
      async stop() {
        await started.stop();
        await removeInstallation(env);
        await database.drop();
      },
    };
  } catch (err) {
    await service?.stop();
    await database.drop();
    throw err;
  }
}

/** Debian's Dovecot, private instance, the same messages, the same argon2id cost for logins. */
async function startReference(): Promise<Server> {
  const pair = await selfSignedKeyPair("localhost");
  const d: DovecotInstance = await startDovecot({ user: USER, password: PASSWORD, passwordHash: await hashPassword(PASSWORD), messages, cert: pair.cert, key: pair.key });
  return {
    target: { name: "dovecot", port: d.imapPort, user: USER, password: PASSWORD, sizes },
    rssKb: () => d.rssKb(),
    async stop() {
      if (process.env.BENCH_KEEP_LOG) console.error(await readFile(`${d.dir}/dovecot.log`, "utf8"));
      await d.stop();
    },
  };
}

const ours = results.postline;
const theirs = results.dovecot;
const keys = [...CLIENTS.flatMap((n) => [`sessions_per_s_${n}`, `fetched_per_s_${n}`, `p99_ms_${n}`, `p99_fetch_ms_${n}`]), "rss_peak_mb"];
const ratios = ours && theirs ? Object.fromEntries(keys.map((k) => [k, round(ours[k]! / theirs[k]!, 2)])) : null;

console.log(`\nIMAP benchmark: ${MESSAGES}-message INBOX (${totalMb.toFixed(1)} MB), ${SECONDS} s per N, loop of LOGIN, SELECT, FETCH 1:* (FLAGS ENVELOPE), 100 × UID FETCH BODY.PEEK[], LOGOUT\n`);
console.log("| measure | Postline | Dovecot | ratio |");
console.log("| --- | --- | --- | --- |");
const label: Record<string, string> = { sessions_per_s: "sessions/s", fetched_per_s: "bodies fetched/s", p99_ms: "p99 command latency (ms)", p99_fetch_ms: "p99 body FETCH latency (ms)" };
for (const k of keys) {
  const m = /^(.*)_(\d+)$/.exec(k);
  const name = m ? `${label[m[1]!]}, N=${m[2]}` : "peak memory, PSS of all processes (MB)";
  console.log(`| ${name} | ${ours?.[k] ?? "–"} | ${theirs?.[k] ?? "–"} | ${ratios?.[k] ?? "–"} |`);
}
console.log("");
const first = CLIENTS[0]!;
console.log(
  JSON.stringify({
    ...(ours ?? {}),
    dovecot: theirs ?? null,
    ratio_to_dovecot: ratios ? ratios[`fetched_per_s_${first}`] : null,
    ratios,
  }),
);

