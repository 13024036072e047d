import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { FsBlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import type { Db } from "@postline/db";
import { decodeEvent, mailAccepted, mailClassified, publishEvent, type MailClassified } from "@postline/events";
import type { RunningService } from "@postline/platform";
import { createLogger, metricsRegistry } from "@postline/telemetry";
import { createPgliteDatabase, startDnsServer, type DnsServer } from "@postline/testkit";
import { spamFilterService } from "../src/index.ts";
import { acceptedEvent, message, signed, zones } from "./world.ts";

// Standalone mode: the embedded bus on PGlite and filesystem blobs, the module started in process.
let dir: string;
let db: Db;
let bus: Bus;
let blobs: FsBlobStore;
let dns: DnsServer;
let service: RunningService;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "spam-filter-"));
  db = await createPgliteDatabase();
  bus = openBus({ kind: "embedded", db, pollIntervalMs: 50 });
  await bus.createTopics(allTopics(4));
  blobs = await FsBlobStore.open(join(dir, "blobs"));
  dns = await startDnsServer(zones);
  service = await spamFilterService.start({
    config: parseConfig(platformSchema, {}),
    // One lost lookup would flip the clean message's verdict (-2 → -1.5): PGlite can hold this
    // process's event loop, which the test DNS server shares, past the default 3 s on a loaded CI.
    env: { POSTLINE_DNS_SERVERS: dns.address, POSTLINE_DNS_TIMEOUT_MS: "15000", POSTLINE_DNS_TRIES: "3", POSTLINE_HOSTNAME: "standalone.test", POSTLINE_SPAM_JUNK_SCORE: "-1.5" },
    logger: createLogger("spam-filter-test", "silent"),
    registry: metricsRegistry(),
    db,
    bus,
    blobs,
  });
});

after(async () => {
  await service?.stop();
  await bus?.close();
  await db?.close();
  await dns?.stop();
  await rm(dir, { recursive: true, force: true });
});

test("classifies mail.received from the embedded bus with settings from the environment", async () => {
  const clean = await acceptedEvent(blobs, await signed(message()), { ip: "127.0.0.10" });
  const sloppy = await acceptedEvent(blobs, await signed(message({ date: false })), { ip: "127.0.0.10" });
  await publishEvent(bus, Topics.mailReceived, mailAccepted, clean.id, clean);
  await publishEvent(bus, Topics.mailReceived, mailAccepted, sloppy.id, sloppy);

  const seen = new Map<string, MailClassified>();
  const done = new Promise<void>((resolve) => {
    void bus
      .consume({
        groupId: "reader",
        topics: [Topics.mailClassified],
        handler: async (m) => {
          const e = decodeEvent(mailClassified, m);
          seen.set(e.id, e);
          if (seen.size === 2) resolve();
        },
      })
      .then((c) => done.finally(() => c.stop()));
  });
  await done;
  assert.equal(seen.get(clean.id)?.verdict.action, "deliver", JSON.stringify(seen.get(clean.id)?.verdict.symbols));
  assert.match(seen.get(clean.id)!.verdict.authResults, /^standalone\.test;/);
  assert.equal(seen.get(clean.id)?.verdict.score, -2); // SPF, DKIM, DMARC pass
  // MISSING_DATE (+1) makes -1: over the junk threshold set to -1.5 through the environment
  assert.equal(seen.get(sloppy.id)?.verdict.score, -1, JSON.stringify(seen.get(sloppy.id)?.verdict.symbols));
  assert.equal(seen.get(sloppy.id)?.verdict.action, "junk");
});
