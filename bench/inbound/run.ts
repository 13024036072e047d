/**
 * pnpm bench:inbound — inbound mail throughput and latency, and Postfix on the same machine.
 *
 * 1. Accept rate: smtp-source (Postfix's load generator), 10 KB messages, 20 and 50 concurrent
 *    sessions, against inbound-mx in cluster mode (inbound-mx, spam-filter and delivery each their
 *    own process, the service bundles of `pnpm build:dist`, on the real PostgreSQL, Kafka and
 *    MinIO), and against two private Postfix instances: one relaying to smtp-sink, one delivering
 *    into a Maildir itself (the job closest to the pipeline's). Ours is measured twice: inbound-mx
 *    alone (the consumers not started yet), then the whole pipeline at work on the same two cores.
 * 2. End-to-end latency at a fixed offered rate: from the 250 reply to the message row existing in
 *    the mailbox (p50, p99).
 * 3. Peak RSS of each service process, and the CPU time each used per message (user + system over
 *    the whole run, divided by the messages delivered): the cost figure, steadier than the rates
 *    when the machine is shared.
 * Both MTAs get BENCH_WARMUP messages (default 500) before their measured runs.
 * Prints a table, then one JSON object with the figures as the last line. BENCH_ENV (a JSON object)
 * adds service settings, e.g. BENCH_ENV='{"POSTLINE_DELIVERY_CONCURRENCY":"12"}'.
 */
import { execFile } from "node:child_process";
import { removeInstallation } from "../support/installation.ts";
import { cpuMs, infraPids, peakRssMb, round, treeCpuMs } from "../support/process-stats.ts";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { addDomain, createAccount } from "@postline/directory";
import { clusterEnv, createTestDatabase, smtpTransaction, startDnsServer, startPostfix, startServiceProcess, startSmtpSink, type ServiceProcess } from "@postline/testkit";

const run = promisify(execFile);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const SIZE = 10 * 1024;
const LATENCY_RATE = Number(process.env.BENCH_RATE ?? 100);
const LATENCY_SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const RCPT = "bench@bench.test";
/** Messages sent through each MTA before its measured runs (BENCH_WARMUP). */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);

const database = await createTestDatabase();
await addDomain(database.db, "bench.test");
await createAccount(database.db, { address: RCPT, password: "bench-password-123" });
const dns = await startDnsServer({ hosts: { "sender.bench.test": "127.0.0.1" } });
// All load comes from 127.0.0.1: lift the per-address connection limit.
const env = clusterEnv(database.url, { POSTLINE_MX_PORT: "0", POSTLINE_DNS_SERVERS: dns.address, POSTLINE_BUS_PARTITIONS: "12", POSTLINE_MX_MAX_CONNECTIONS_PER_IP: "500", ...JSON.parse(process.env.BENCH_ENV ?? "{}") });

const services: ServiceProcess[] = [await startServiceProcess("inbound-mx", env)];
const mxPort = Number(new URL(services[0]!.listening["inbound-mx"]!.smtp!.replace(/^smtp:/, "http:")).port);

/** smtp-source: `sessions` parallel sessions, `count` messages of SIZE bytes; returns messages per second. */
async function smtpSource(port: number, sessions: number, count: number): Promise<number> {
  const started = process.hrtime.bigint();
  await run("/usr/sbin/smtp-source", ["-s", String(sessions), "-m", String(count), "-l", String(SIZE), "-f", "sender@sender.bench.test", "-t", RCPT, `127.0.0.1:${port}`], {
    maxBuffer: 1 << 26,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return count / seconds;
}

async function mailboxCount(): Promise<number> {
  const r = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM messages");
  return r.rows[0]!.n;
}

async function waitForMailbox(total: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await mailboxCount()) < total) {
    if (Date.now() > deadline) throw new Error(`only ${await mailboxCount()} of ${total} messages delivered`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// One quiet first connection passes 127.0.0.1 through the MX's pregreet wait, as a real sender's first delivery would.
const warmUp = await smtpTransaction(mxPort, { from: "sender@sender.bench.test", to: [RCPT], data: "Subject: warm-up\r\n\r\nwarm-up\r\n" });
if (!warmUp.queueId) throw new Error(`warm-up refused: ${warmUp.final.code} ${warmUp.final.text}`);

// CPU of PostgreSQL (every backend), Kafka and MinIO from here to the end, per message: the share
// of the machine the platform's infrastructure takes.
const infra = infraPids(fileURLToPath(new URL("../../deploy/local/.run", import.meta.url)));
const infraBefore = Object.fromEntries(Object.entries(infra).map(([name, pid]) => [name, treeCpuMs(pid)]));
const handledBefore = await mailboxCount();

// Warm-up, not measured: a long-running MX is past its JIT compilation and its connections are open;
// the first seconds of a cold process are not what an operator's MX does all day. Postfix gets the same.
if (WARMUP > 0) await smtpSource(mxPort, 20, WARMUP);

const results: Record<string, number> = {};
// The MX alone first (spam-filter and delivery not started yet, mail.received queues up in Kafka):
// what one inbound-mx process accepts when it has the machine to itself with Kafka and MinIO.
for (const sessions of [20, 50]) results[`alone_${sessions}`] = await smtpSource(mxPort, sessions, MESSAGES);
for (const name of ["spam-filter", "delivery"]) services.push(await startServiceProcess(name, env));
let delivered = 1 + WARMUP + 2 * MESSAGES;
await waitForMailbox(delivered);

// Postfix: accepting the same load (it queues to disk and fsyncs before 250), relaying to smtp-sink.
// The sink listens before Postfix starts: a refused first relay would defer the queue for minutes.
const sink = await startSmtpSink({ capture: false, maxSessions: 1000 });
const postfix = await startPostfix({ relayhost: `[127.0.0.1]:${sink.port}`, relayDomains: ["bench.test"] });
if (WARMUP > 0) await smtpSource(postfix.port, 20, WARMUP);
await postfix.waitForEmptyQueue(120_000);
// And Postfix doing an inbound MX's whole job, as the pipeline does: accepting, then delivering each
// message into a mailbox itself (virtual(8), one Maildir) instead of handing it on.
const postfixMaildir = await startPostfix({ mailboxDomains: ["bench.test"] });
if (WARMUP > 0) await smtpSource(postfixMaildir.port, 20, WARMUP);
await postfixMaildir.waitForEmptyQueue(120_000);
// Then the whole pipeline (the MX accepting while the spam filter and delivery work on the same
// cores) and Postfix, each session count back to back: the speed of a shared machine drifts over
// minutes, and a ratio of two runs far apart measures that drift. Each starts on an idle machine.
for (const sessions of [20, 50]) {
  results[`accept_${sessions}`] = await smtpSource(mxPort, sessions, MESSAGES);
  delivered += MESSAGES;
  await waitForMailbox(delivered);
  results[`postfix_${sessions}`] = await smtpSource(postfix.port, sessions, MESSAGES);
  await postfix.waitForEmptyQueue(120_000);
  results[`postfix_maildir_${sessions}`] = await smtpSource(postfixMaildir.port, sessions, MESSAGES);
  await postfixMaildir.waitForEmptyQueue(120_000);
}
await postfix.stop();
await postfixMaildir.stop();
await sink.stop();

// End-to-end latency at a fixed offered rate: 250 reply → message row in the mailbox.
const latencies = await offeredLoad(mxPort, LATENCY_RATE, LATENCY_SECONDS);
const rss = Object.fromEntries(services.map((s) => [s.name, peakRssMb(s.child.pid!)]));
// CPU time each service used for the whole run (start-up included), per message it handled: the
// figure that matters on a machine whose cores are shared with Kafka, PostgreSQL and MinIO, and
// less sensitive than the rates to whatever else the machine is doing.
const handled = await mailboxCount();
const cpu = Object.fromEntries(services.map((s) => [s.name, round(cpuMs(s.child.pid!) / handled, 2)]));
// Postfix's run falls inside this window too; its load goes through its own processes, not these.
const infraCpu = Object.fromEntries(Object.entries(infra).map(([name, pid]) => [name, round((treeCpuMs(pid) - infraBefore[name]!) / (handled - handledBefore), 2)]));

for (const s of services.reverse()) await s.stop();
await dns.stop();
await removeInstallation(env);
await database.drop();

const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
const figures = {
  messages: MESSAGES,
  size_bytes: SIZE,
  accept_per_s_20: round(results.accept_20!),
  accept_per_s_50: round(results.accept_50!),
  postfix_per_s_20: round(results.postfix_20!),
  postfix_per_s_50: round(results.postfix_50!),
  ratio_to_postfix: round(Math.min(results.accept_20! / results.postfix_20!, results.accept_50! / results.postfix_50!), 2),
  ratio_to_postfix_20: round(results.accept_20! / results.postfix_20!, 2),
  ratio_to_postfix_50: round(results.accept_50! / results.postfix_50!, 2),
  postfix_maildir_per_s_20: round(results.postfix_maildir_20!),
  postfix_maildir_per_s_50: round(results.postfix_maildir_50!),
  ratio_to_postfix_maildir: round(Math.min(results.accept_20! / results.postfix_maildir_20!, results.accept_50! / results.postfix_maildir_50!), 2),
  accept_alone_per_s_20: round(results.alone_20!),
  accept_alone_per_s_50: round(results.alone_50!),
  ratio_alone_to_postfix: round(Math.min(results.alone_20! / results.postfix_20!, results.alone_50! / results.postfix_50!), 2),
  offered_per_s: LATENCY_RATE,
  e2e_p50_ms: round(p(0.5)),
  e2e_p99_ms: round(p(0.99)),
  rss_peak_mb: rss,
  cpu_ms_per_msg: cpu,
  infra_cpu_ms_per_msg: infraCpu,
};

console.log("\ninbound benchmark (10 KB messages, cluster mode: inbound-mx + spam-filter + delivery, Kafka, PostgreSQL, MinIO)\n");
console.log("| measure | Postline | Postfix | ratio |");
console.log("| --- | --- | --- | --- |");
console.log(`| accepted msg/s, 20 sessions | ${figures.accept_per_s_20} | ${figures.postfix_per_s_20} | ${figures.ratio_to_postfix_20} |`);
console.log(`| accepted msg/s, 50 sessions | ${figures.accept_per_s_50} | ${figures.postfix_per_s_50} | ${figures.ratio_to_postfix_50} |`);
console.log(`| accepted msg/s, 20 sessions; Postfix delivering into a Maildir | ${figures.accept_per_s_20} | ${figures.postfix_maildir_per_s_20} | ${round(results.accept_20! / results.postfix_maildir_20!, 2)} |`);
console.log(`| accepted msg/s, 50 sessions; Postfix delivering into a Maildir | ${figures.accept_per_s_50} | ${figures.postfix_maildir_per_s_50} | ${round(results.accept_50! / results.postfix_maildir_50!, 2)} |`);
console.log(`| accepted msg/s, 20 sessions, inbound-mx alone | ${figures.accept_alone_per_s_20} | ${figures.postfix_per_s_20} | ${round(results.alone_20! / results.postfix_20!, 2)} |`);
console.log(`| accepted msg/s, 50 sessions, inbound-mx alone | ${figures.accept_alone_per_s_50} | ${figures.postfix_per_s_50} | ${round(results.alone_50! / results.postfix_50!, 2)} |`);
console.log(`| end-to-end p50 at ${LATENCY_RATE} msg/s offered | ${figures.e2e_p50_ms} ms | | |`);
console.log(`| end-to-end p99 at ${LATENCY_RATE} msg/s offered | ${figures.e2e_p99_ms} ms | | |`);
for (const [name, mb] of Object.entries(rss)) console.log(`| peak RSS ${name} | ${mb} MB | | |`);
for (const [name, ms] of Object.entries(cpu)) console.log(`| CPU per message ${name} | ${ms} ms | | |`);
for (const [name, ms] of Object.entries(infraCpu)) console.log(`| CPU per message ${name} | ${ms} ms | | |`);
console.log("");
console.log(JSON.stringify(figures));


/**
 * Sends `rate` messages per second for `seconds` over a pool of connections, records when each
 * 250 arrived with its queue id, then waits for every message to be in the mailbox and returns the
 * sorted latencies in ms (250 → messages.created_at).
 */
async function offeredLoad(port: number, rate: number, seconds: number): Promise<number[]> {
  const accepted = new Map<string, number>();
  const total = rate * seconds;
  const body = `Subject: latency\r\nFrom: <sender@sender.bench.test>\r\nTo: <${RCPT}>\r\nMessage-ID: <m@bench>\r\nDate: ${new Date().toUTCString()}\r\n\r\n${"x".repeat(SIZE - 200)}\r\n`;
  const before = await mailboxCount();
  const start = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      smtpTransaction(port, { from: "sender@sender.bench.test", to: [RCPT], data: body }).then((t) => {
        if (!t.queueId) throw new Error(`not accepted: ${t.final.code} ${t.final.text}`);
        accepted.set(t.queueId, Date.now());
      }),
    );
  }
  await Promise.all(inFlight);
  await waitForMailbox(before + total);
  const rows = await database.db.query<{ mail_id: string; t: number }>(
    "SELECT mail_id, (extract(epoch FROM created_at) * 1000)::float8 AS t FROM messages WHERE mail_id = ANY($1)",
    [[...accepted.keys()]],
  );
  return rows.rows.map((r) => r.t - accepted.get(r.mail_id)!).sort((a, b) => a - b);
}
