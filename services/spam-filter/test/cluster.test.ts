import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { S3BlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus, type Consumer } from "@postline/bus";
import { decodeEvent, mailAccepted, mailClassified, publishEvent, type MailClassified } from "@postline/events";
import { createTestDatabase, startDnsServer, testInfra, uniqueName, type DnsServer, type TestDatabase } from "@postline/testkit";
import { acceptedEvent, message, signed, zones } from "./world.ts";

// spam-filter as its own process in cluster mode: real Kafka, PostgreSQL, MinIO, and dnsmasq on loopback.
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const PARTITIONS = 12;

describe("spam-filter process (cluster mode)", () => {
  let database: TestDatabase;
  let dns: DnsServer;
  let child: ChildProcess;
  let ops: string;
  let bus: Bus;
  let blobs: S3BlobStore;
  let consumer: Consumer;
  const classified = new Map<string, MailClassified>();
  const waiters = new Map<string, (e: MailClassified) => void>();
  const namespace = `${uniqueName("sf")}.`;

  const waitFor = (id: string, timeoutMs = 30_000) =>
    new Promise<MailClassified>((resolve, reject) => {
      const found = classified.get(id);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no mail.classified for ${id}`)), timeoutMs);
      waiters.set(id, (e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });

  before(async () => {
    const infra = testInfra();
    database = await createTestDatabase({ migrated: false });
    dns = await startDnsServer(zones);
    bus = openBus({ kind: "kafka", brokers: infra.kafkaBrokers, clientId: "spam-filter-test", namespace });
    await bus.createTopics(allTopics(PARTITIONS));
    blobs = await S3BlobStore.open({ endpoint: infra.s3.endpoint, accessKey: infra.s3.accessKey, secretKey: infra.s3.secretKey, region: infra.s3.region, bucket: "postline" });
    consumer = await bus.consume({
      groupId: "classified-reader",
      topics: [Topics.mailClassified],
      partitionsConcurrently: PARTITIONS,
      handler: async (m) => {
        const event = decodeEvent(mailClassified, m);
        classified.set(event.id, event);
        waiters.get(event.id)?.(event);
      },
    });

    child = spawn(process.execPath, ["--import", "tsx", MAIN], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        PATH: process.env.PATH ?? "",
        POSTLINE_MODE: "cluster",
        POSTLINE_DATABASE_URL: database.url,
        POSTLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(","),
        POSTLINE_BUS_NAMESPACE: namespace,
        POSTLINE_BUS_PARTITIONS: String(PARTITIONS),
        POSTLINE_S3_ENDPOINT: infra.s3.endpoint,
        POSTLINE_S3_ACCESS_KEY: infra.s3.accessKey,
        POSTLINE_S3_SECRET_KEY: infra.s3.secretKey,
        POSTLINE_DNS_SERVERS: dns.address,
        POSTLINE_DNSBL_ZONES: "bl.test",
        POSTLINE_HOSTNAME: "mx.example.test",
        POSTLINE_LOG_LEVEL: "info",
        // the verdict record and reputation are written behind; an hour: only when the service stops (the last test)
        POSTLINE_SPAM_OBSERVER_FLUSH_MS: "3600000",
      },
    });
    for await (const line of createInterface({ input: child.stdout! })) {
      const entry = JSON.parse(line) as { msg?: string; ops?: string };
      if (entry.msg === "ready") {
        ops = entry.ops!;
        break;
      }
    }
    child.stdout!.resume();
  });

  after(async () => {
    if (child.exitCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
    await consumer?.stop();
    await bus?.close();
    await dns?.stop();
    await database?.drop();
  });

  test("publishes mail.classified with the verdict and Authentication-Results for mail.received and mail.submitted", async () => {
    const good = await acceptedEvent(blobs, await signed(message()), { ip: "127.0.0.10" });
    const forged = await acceptedEvent(blobs, message({ subject: "INVOICE OVERDUE PAY TODAY" }), { ip: "127.0.0.13", helo: "spammer.test" }, "alice@sender.test", ["EARLY_TALKER"]);
    const submitted = await acceptedEvent(blobs, message({ date: false }), { ip: "127.0.0.99", helo: "laptop", authUser: "alice@sender.test" });
    await publishEvent(bus, Topics.mailReceived, mailAccepted, good.id, good);
    await publishEvent(bus, Topics.mailReceived, mailAccepted, forged.id, forged);
    await publishEvent(bus, Topics.mailSubmitted, mailAccepted, submitted.id, submitted);

    const g = await waitFor(good.id);
    assert.equal(g.source, "inbound");
    assert.equal(g.verdict.action, "deliver");
    assert.match(g.verdict.authResults, /^mx\.example\.test;\r\n dkim=pass header\.i=@sender\.test/);
    assert.match(g.verdict.authResults, /spf=pass/);
    assert.match(g.verdict.authResults, /dmarc=pass/);
    assert.deepEqual(g.blob, good.blob);
    assert.deepEqual(g.envelope.rcptTo, ["bob@example.test"]);

    const f = await waitFor(forged.id);
    assert.equal(f.verdict.action, "reject");
    const names = f.verdict.symbols.map((s) => s.name).sort();
    assert.deepEqual(names, ["DMARC_REJECT", "EARLY_TALKER", "RBL_LISTED", "RDNS_NONE", "SPF_FAIL", "SUBJECT_SHOUTING"]);
    assert.equal(f.verdict.score, 8 + 3 + 7 + 1.5 + 2.5 + 1.5);
    assert.match(f.verdict.authResults, /dmarc=fail/);

    const s = await waitFor(submitted.id);
    assert.equal(s.source, "submission");
    assert.equal(s.verdict.authResults, "mx.example.test; auth=pass smtp.auth=alice@sender.test");
    assert.deepEqual(s.verdict.symbols.map((x) => x.name), ["MISSING_DATE"]);
    assert.equal(s.verdict.action, "deliver");

    const metrics = await (await fetch(`${ops}/metrics`)).text();
    assert.match(metrics, /postline_spam_filter_verdicts_total\{action="reject",source="inbound"\} 1/);
    assert.match(metrics, /postline_spam_filter_symbol_hits_total\{symbol="DMARC_REJECT"\} 1/);
    assert.match(metrics, /postline_spam_filter_classify_seconds_count\{source="submission"\} 1/);
  });

  test("an event whose blob does not exist is skipped, and later events still flow", async () => {
    const missing = await acceptedEvent(blobs, message(), { ip: "127.0.0.10" });
    missing.blob = { ...missing.blob, key: "f".repeat(64), sha256: "f".repeat(64) };
    const next = await acceptedEvent(blobs, await signed(message({ body: "next\r\n" })), { ip: "127.0.0.10" });
    await publishEvent(bus, Topics.mailReceived, mailAccepted, missing.id, missing);
    await publishEvent(bus, Topics.mailReceived, mailAccepted, next.id, next);
    assert.equal((await waitFor(next.id)).verdict.action, "deliver");
    assert.equal(classified.has(missing.id), false);
    const metrics = await (await fetch(`${ops}/metrics`)).text();
    assert.match(metrics, /postline_spam_filter_missing_blobs_total 1/);
  });

  test("a burst of 300 DKIM-signed messages is classified, every one deliver", async () => {
    const events = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => acceptedEvent(blobs, await signed(message({ body: `message ${i}\r\n${"lorem ipsum ".repeat(800)}\r\n` })), { ip: "127.0.0.10" })),
    );
    for (let i = 0; i < events.length; i += 50) {
      await bus.produce(
        Topics.mailReceived,
        events.slice(i, i + 50).map((e) => ({ key: e.id, value: JSON.stringify(mailAccepted.parse(e)) })),
      );
    }
    const results = await Promise.all(events.map((e) => waitFor(e.id, 120_000)));
    assert.equal(results.length, 300);
    assert.ok(results.every((r) => r.verdict.action === "deliver"));
  });

  test("stopping the service writes the verdict records and reputation counts it buffered", async () => {
    const count = async (table: string) => (await database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    assert.equal(await count("spam_verdicts"), 0, "buffered (flush interval an hour, fewer than 1000 waiting)");
    assert.equal(await count("spam_reputation"), 0);
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
    // 3 + 1 + 300 classified messages (the one without a blob has no verdict)
    assert.equal(await count("spam_verdicts"), classified.size);
    assert.equal(classified.size, 304);
    const ip = await database.db.query<{ good: number; bad: number }>("SELECT good, bad FROM spam_reputation WHERE kind = 'ip' AND key = '127.0.0.0/24'");
    assert.ok(ip.rows[0] && ip.rows[0].good + ip.rows[0].bad > 300, `the burst's verdicts counted: ${JSON.stringify(ip.rows[0])}`);
  });
});
