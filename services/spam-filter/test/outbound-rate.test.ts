import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FsBlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus, type Consumer } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import { PgDb } from "@postline/db";
import { decodeEvent, mailAccepted, mailClassified, publishEvent, type MailAcceptedInput, type MailClassified } from "@postline/events";
import type { RunningService } from "@postline/platform";
import { createLogger, metricsRegistry } from "@postline/telemetry";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { OutboundRate, spamFilterService } from "../src/index.ts";
import { acceptedEvent, message, signed, zones } from "./world.ts";

// The outbound rate symbols against real PostgreSQL: the spam-filter module in process on a migrated
// test database, the embedded bus on that same database, filesystem blobs. Low limits from the
// environment: 2 a minute, 4 an hour, 6 distinct recipients an hour.
const RATE = ["OUTBOUND_BURST", "OUTBOUND_RATE_HIGH", "OUTBOUND_RCPTS_HIGH"];
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

describe("outbound rate of submitted mail", () => {
  let dir: string;
  let database: TestDatabase;
  let bus: Bus;
  let blobs: FsBlobStore;
  let dns: DnsServer;
  let service: RunningService;
  let reader: Consumer;
  const classified = new Map<string, MailClassified[]>();
  const waiters = new Set<() => void>();

  /** The n-th mail.classified of `id` (1 = the first). */
  const classifiedAs = (id: string, n = 1) =>
    new Promise<MailClassified>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail.classified #${n} for ${id}`)), 30_000);
      const check = () => {
        const seen = classified.get(id);
        if (seen && seen.length >= n) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(seen[n - 1]!);
        }
      };
      waiters.add(check);
      check();
    });

  const submitted = async (account: string, opts: { at: string; rcptTo?: string[] }): Promise<MailAcceptedInput & { id: string }> => {
    const event = await acceptedEvent(blobs, message(), { ip: "127.0.0.99", helo: "laptop", authUser: account }, account);
    return { ...event, receivedAt: opts.at, envelope: { ...event.envelope, rcptTo: opts.rcptTo ?? ["bob@example.test"] } };
  };

  /** Publishes on mail.submitted and waits for its (n-th) verdict. */
  const submit = async (event: MailAcceptedInput & { id: string }, n = 1) => {
    await publishEvent(bus, Topics.mailSubmitted, mailAccepted, event.id, event);
    return classifiedAs(event.id, n);
  };

  const rateSymbols = (e: MailClassified) => e.verdict.symbols.filter((s) => RATE.includes(s.name));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "spam-filter-rate-"));
    database = await createTestDatabase();
    bus = openBus({ kind: "embedded", db: database.db, pollIntervalMs: 50 });
    await bus.createTopics(allTopics(4));
    blobs = await FsBlobStore.open(join(dir, "blobs"));
    dns = await startDnsServer(zones);
    service = await spamFilterService.start({
      config: parseConfig(platformSchema, {}),
      env: {
        POSTLINE_DNS_SERVERS: dns.address,
        POSTLINE_HOSTNAME: "rate.test",
        POSTLINE_SPAM_OUTBOUND_PER_MINUTE: "2",
        POSTLINE_SPAM_OUTBOUND_PER_HOUR: "4",
        POSTLINE_SPAM_OUTBOUND_RCPTS_PER_HOUR: "6",
      },
      logger: createLogger("spam-filter-rate-test", "silent"),
      registry: metricsRegistry(),
      db: database.db,
      bus,
      blobs,
    });
    reader = await bus.consume({
      groupId: "reader",
      topics: [Topics.mailClassified],
      handler: async (m) => {
        const e = decodeEvent(mailClassified, m);
        classified.set(e.id, [...(classified.get(e.id) ?? []), e]);
        for (const w of [...waiters]) w();
      },
    });
  });

  after(async () => {
    await reader?.stop();
    await service?.stop();
    await bus?.close();
    await dns?.stop();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test("under the hourly limit no symbol; the message over it gets OUTBOUND_RATE_HIGH and a quarantine verdict", async () => {
    for (const m of [50, 40, 30, 20]) {
      const verdict = await submit(await submitted("carol@sender.test", { at: minutesAgo(m) }));
      assert.equal(verdict.source, "submission");
      assert.deepEqual(rateSymbols(verdict), []);
      assert.equal(verdict.verdict.action, "deliver");
    }
    const over = await submit(await submitted("carol@sender.test", { at: minutesAgo(10) }));
    assert.deepEqual(rateSymbols(over), [{ name: "OUTBOUND_RATE_HIGH", score: 10, detail: "5 messages in an hour (limit 4)" }]);
    assert.equal(over.verdict.action, "quarantine");
    // Another account's count is its own.
    assert.deepEqual(rateSymbols(await submit(await submitted("other@sender.test", { at: minutesAgo(9) }))), []);
  });

  test("more than the per-minute limit within a minute gets OUTBOUND_BURST", async () => {
    assert.deepEqual(rateSymbols(await submit(await submitted("dave@sender.test", { at: minutesAgo(0.1) }))), []);
    assert.deepEqual(rateSymbols(await submit(await submitted("dave@sender.test", { at: minutesAgo(0.05) }))), []);
    const third = await submit(await submitted("dave@sender.test", { at: minutesAgo(0) }));
    assert.deepEqual(rateSymbols(third), [{ name: "OUTBOUND_BURST", score: 10, detail: "3 messages in a minute (limit 2)" }]);
    assert.equal(third.verdict.action, "quarantine");
  });

  test("a redelivered mail.submitted (same mail id) counts once", async () => {
    const first = await submitted("erin@sender.test", { at: minutesAgo(0.2) });
    assert.deepEqual(rateSymbols(await submit(first)), []);
    // The same event again: classified a second time, but not counted again.
    assert.deepEqual(rateSymbols(await submit(first, 2)), []);
    assert.deepEqual(rateSymbols(await submit(first, 3)), []);
    // Two messages in the minute is at the limit, not over it: counted twice it would be a burst.
    const second = await submit(await submitted("erin@sender.test", { at: minutesAgo(0.1) }));
    assert.deepEqual(rateSymbols(second), []);
    const rows = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbound_rate_log WHERE account = $1", ["erin@sender.test"]);
    assert.equal(rows.rows[0]!.n, 2);
  });

  test("more distinct recipients in an hour than the limit gets OUTBOUND_RCPTS_HIGH", async () => {
    const a = await submit(await submitted("frank@sender.test", { at: minutesAgo(30), rcptTo: ["a@x.test", "b@x.test", "c@x.test", "d@x.test"] }));
    assert.deepEqual(rateSymbols(a), []);
    // Recipients already counted count once: 6 distinct, at the limit.
    const b = await submit(await submitted("frank@sender.test", { at: minutesAgo(20), rcptTo: ["A@x.test", "c@x.test", "e@x.test", "f@x.test"] }));
    assert.deepEqual(rateSymbols(b), []);
    const c = await submit(await submitted("frank@sender.test", { at: minutesAgo(10), rcptTo: ["g@x.test"] }));
    assert.deepEqual(rateSymbols(c), [{ name: "OUTBOUND_RCPTS_HIGH", score: 10, detail: "7 recipients in an hour (limit 6)" }]);
    assert.equal(c.verdict.action, "quarantine");
  });

  test("inbound mail (mail.received) is never rate-counted", async () => {
    const events = await Promise.all(
      Array.from({ length: 4 }, async () => ({
        ...(await acceptedEvent(blobs, await signed(message()), { ip: "127.0.0.10", authUser: "grace@sender.test" })),
        receivedAt: minutesAgo(0),
      })),
    );
    for (const e of events) {
      await publishEvent(bus, Topics.mailReceived, mailAccepted, e.id, e);
      const verdict = await classifiedAs(e.id);
      assert.equal(verdict.source, "inbound");
      assert.deepEqual(rateSymbols(verdict), []);
    }
    const rows = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbound_rate_log WHERE account = $1", ["grace@sender.test"]);
    assert.equal(rows.rows[0]!.n, 0);
  });

  test("two replicas (separate connection pools) count the same messages; prune deletes rows no window reaches", async () => {
    const other = new PgDb({ url: database.url, maxConnections: 2 });
    try {
      const limits = { perMinute: 0, perHour: 0, recipientsPerHour: 0 };
      // No random prune inside record(): it could take the three-hour-old row before prune() below does.
      const one = new OutboundRate(database.db, limits, 0);
      const two = new OutboundRate(other, limits, 0);
      const at = new Date(Date.now() - 5 * 60_000);
      assert.equal((await one.record({ id: "hank-1", account: "Hank@sender.test", recipients: ["x@y.test"], at })).lastHour, 1);
      assert.equal((await two.record({ id: "hank-2", account: "hank@sender.test", recipients: ["x@y.test"], at })).lastHour, 2);
      const counts = await one.record({ id: "hank-3", account: "hank@sender.test", recipients: ["z@y.test"], at });
      assert.deepEqual(counts, { lastMinute: 3, lastHour: 3, recipientsLastHour: 2 });
      // A row three hours old: outside every window, and deleted by prune.
      await two.record({ id: "hank-old", account: "hank@sender.test", recipients: ["x@y.test"], at: new Date(Date.now() - 3 * 3600_000) });
      assert.ok((await one.prune()) >= 1);
      const left = await database.db.query<{ id: string }>("SELECT mail_id AS id FROM outbound_rate_log WHERE account = 'hank@sender.test' ORDER BY mail_id");
      assert.deepEqual(left.rows.map((r) => r.id), ["hank-1", "hank-2", "hank-3"]);
    } finally {
      await other.close();
    }
  });
});
