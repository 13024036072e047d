/**
 * pnpm bench:outbound — remote delivery throughput with 1, 2 and 4 delivery processes.
 *
 * Each run gets a fresh database, bus namespace and bucket: N messages of 10 KB are stored as blobs
 * and published as `mail.classified` (source "submission", verdict deliver) to recipients at ten
 * destination domains whose MX is one `smtp-sink` on a loopback address (capturing nothing). Then K
 * delivery processes start (one consumer group); the clock runs from all K being ready until every
 * `deliveries` row is `delivered`. Reported per run: delivered messages per second, CPU time (user +
 * system, from /proc/<pid>/stat) summed over the delivery processes per delivered message, and each
 * process's peak RSS. Prints a table, then one JSON object with the figures as the last line.
 * BENCH_MESSAGES (default 3000), BENCH_PROCESSES (default "1,2,4"), BENCH_ENV (JSON: extra settings).
 */
import { removeInstallation } from "../support/installation.ts";
import { cpuMs, peakRssMb, round } from "../support/process-stats.ts";
import { openBlobStore } from "@postline/blobstore";
import { Topics, allTopics, openBus } from "@postline/bus";
import type { Db } from "@postline/db";
import { encodeEvent, mailClassified, newMailId } from "@postline/events";
import { clusterEnv, createTestDatabase, freeSharedPort, startDnsServer, startServiceProcess, startSmtpSink, testInfra, type ServiceProcess } from "@postline/testkit";

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 3000);
const PROCESSES = (process.env.BENCH_PROCESSES ?? "1,2,4").split(",").map(Number);
const SIZE = 10 * 1024;
const DOMAINS = Array.from({ length: 10 }, (_, i) => `sink${i + 1}.bench.test`);
const SINK_ADDRESS = "127.0.0.5";
const PARTITIONS = 12;

const port = await freeSharedPort([SINK_ADDRESS]);
const sink = await startSmtpSink({ address: SINK_ADDRESS, port, capture: false, maxSessions: 1000 });
const dns = await startDnsServer({
  hosts: Object.fromEntries(DOMAINS.map((d) => [`mx.${d}`, SINK_ADDRESS])),
  mx: Object.fromEntries(DOMAINS.map((d) => [d, `mx.${d}`])),
});

interface Run {
  processes: number;
  msg_per_s: number;
  cpu_ms_per_msg: number;
  rss_mb: number[];
  seconds: number;
}

const runs: Run[] = [];
try {
  for (const k of PROCESSES) runs.push(await benchmark(k));
} finally {
  await sink.stop();
  await dns.stop();
}

const by = (k: number) => runs.find((r) => r.processes === k);
const figures: Record<string, unknown> = {
  messages: MESSAGES,
  size_bytes: SIZE,
  destinations: DOMAINS.length,
  runs,
};
for (const r of runs) {
  figures[`msg_per_s_${r.processes}`] = r.msg_per_s;
  figures[`cpu_ms_per_msg_${r.processes}`] = r.cpu_ms_per_msg;
}
if (by(1) && by(2)) figures.scaling_ratio_2_over_1 = round(by(2)!.msg_per_s / by(1)!.msg_per_s, 2);
if (by(1) && by(4)) figures.scaling_ratio_4_over_1 = round(by(4)!.msg_per_s / by(1)!.msg_per_s, 2);

console.log(`\noutbound benchmark (${MESSAGES} messages of 10 KB to smtp-sink on loopback, ${DOMAINS.length} destination domains; cluster mode: Kafka, PostgreSQL, MinIO)\n`);
console.log("| delivery processes | msg/s | CPU ms per message (all processes) | peak RSS per process (MB) |");
console.log("| --- | --- | --- | --- |");
for (const r of runs) console.log(`| ${r.processes} | ${r.msg_per_s} | ${r.cpu_ms_per_msg} | ${r.rss_mb.join(", ")} |`);
if (figures.scaling_ratio_4_over_1 !== undefined) console.log(`\nscaling ratio 4 processes / 1: ${String(figures.scaling_ratio_4_over_1)}`);
console.log("");
console.log(JSON.stringify(figures));

async function benchmark(k: number): Promise<Run> {
  const database = await createTestDatabase();
  const env = clusterEnv(database.url, {
    POSTLINE_HOSTNAME: "mail.bench.test",
    POSTLINE_DNS_SERVERS: dns.address,
    POSTLINE_DELIVERY_SMTP_PORT: String(port),
    POSTLINE_BUS_PARTITIONS: String(PARTITIONS),
    ...(JSON.parse(process.env.BENCH_ENV ?? "{}") as Record<string, string>),
  });
  const bus = openBus({ kind: "kafka", brokers: testInfra().kafkaBrokers, clientId: "bench-outbound", namespace: env.POSTLINE_BUS_NAMESPACE });
  const blobs = await openBlobStore({
    kind: "s3",
    endpoint: env.POSTLINE_S3_ENDPOINT!,
    bucket: env.POSTLINE_S3_BUCKET!,
    accessKey: env.POSTLINE_S3_ACCESS_KEY!,
    secretKey: env.POSTLINE_S3_SECRET_KEY!,
  });
  await bus.createTopics(allTopics(PARTITIONS));
  const filler = "x".repeat(76) + "\r\n";
  const preloadStarted = Date.now();
  for (let start = 0; start < MESSAGES; start += 200) {
    const count = Math.min(200, MESSAGES - start);
    const records = await Promise.all(
      Array.from({ length: count }, async (_, j) => {
        const i = start + j;
        const to = `user${i}@${DOMAINS[i % DOMAINS.length]}`;
        const head = `From: Bench <bench@sender.bench.test>\r\nTo: <${to}>\r\nSubject: outbound ${i}\r\nMessage-ID: <bench-${i}-${Date.now()}@sender.bench.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
        const raw = head + filler.repeat(Math.ceil((SIZE - head.length) / filler.length));
        const blob = await blobs.put(Buffer.from(raw.slice(0, SIZE - 2) + "\r\n"));
        const id = newMailId();
        return {
          key: id,
          value: encodeEvent(mailClassified, {
            v: 1,
            id,
            blob: { key: blob.key, sha256: blob.sha256, size: blob.size },
            envelope: { mailFrom: "bench@sender.bench.test", rcptTo: [to] },
            client: { ip: "127.0.0.1", helo: "client.bench.test", tls: true, authUser: "bench@sender.bench.test" },
            receivedAt: new Date().toISOString(),
            source: "submission",
            verdict: { action: "deliver", score: 0, symbols: [], authResults: "mail.bench.test; none" },
          }),
        };
      }),
    );
    await bus.produce(Topics.mailClassified, records);
  }
  process.stderr.write(`[${k} processes] pre-loaded ${MESSAGES} messages in ${((Date.now() - preloadStarted) / 1000).toFixed(1)} s\n`);

  const procs: ServiceProcess[] = await Promise.all(
    Array.from({ length: k }, (_, i) => startServiceProcess("delivery", { ...env, POSTLINE_KAFKA_CLIENT_ID: `bench-delivery-${i + 1}` }, 120_000)),
  );
  const t0 = process.hrtime.bigint();
  const cpu0 = procs.map((p) => cpuMs(p.child.pid!));
  const delivered0 = await delivered(database.db);
  let done = delivered0;
  let progressAt = Date.now();
  while (done < MESSAGES) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await delivered(database.db);
    if (now > done) progressAt = Date.now();
    done = now;
    if (Date.now() - progressAt > 60_000) {
      const stuck = await database.db.query("SELECT mail_id, recipient, status, attempts, lease_owner, lease_expires, next_attempt_at, last_error FROM deliveries WHERE status <> 'delivered' LIMIT 10");
      const ids = new Set(stuck.rows.map((r) => (r as { mail_id: string }).mail_id));
      const logs = procs.flatMap((p) => p.logs.filter((l) => ids.has(l.mailId as string)).map((l) => `${p.child.pid}: ${JSON.stringify(l)}`));
      for (const p of procs) await p.stop("SIGKILL");
      throw new Error(`no progress for 60 s with ${k} processes: ${done} of ${MESSAGES} delivered; not delivered: ${JSON.stringify(stuck.rows)}\nlogs about them:\n${logs.join("\n")}`);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = procs.reduce((sum, p, i) => sum + cpuMs(p.child.pid!) - cpu0[i]!, 0);
  const rss = procs.map((p) => peakRssMb(p.child.pid!));
  const failed = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE status <> 'delivered'");
  for (const p of procs) await p.stop();
  await bus.close();
  await removeInstallation(env);
  await database.drop();
  const measured = MESSAGES - delivered0;
  const run: Run = { processes: k, msg_per_s: round(measured / seconds), cpu_ms_per_msg: round(cpu / measured, 2), rss_mb: rss, seconds: round(seconds) };
  process.stderr.write(`[${k} processes] ${JSON.stringify(run)} (${delivered0} delivered before the clock started, ${failed.rows[0]!.n} not delivered)\n`);
  return run;
}

async function delivered(db: Db): Promise<number> {
  const r = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'");
  return r.rows[0]!.n;
}

