import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { FsBlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus } from "@postline/bus";
import { parseConfig, platformSchema } from "@postline/config";
import type { Db } from "@postline/db";
import { decodeEvent, mailAccepted, mailClassified, newMailId, publishEvent, type MailClassified } from "@postline/events";
import { createLogger, metricsRegistry } from "@postline/telemetry";
import { createPgliteDatabase, startDnsServer, rspamdTestMessage, startRspamd, type DnsServer, type RspamdInstance } from "@postline/testkit";
import { spamFilterService } from "../src/index.ts";

// The Rspamd merge through the spam filter service, against a real, private Rspamd from Debian's
// package (network modules off, its resolver on a dead loopback port).
const plain = () => rspamdTestMessage("plain");
const gtube = () => rspamdTestMessage("gtube");

let dns: DnsServer;
let rspamd: RspamdInstance;

before(async () => {
  dns = await startDnsServer({ txt: { "sender.test": "v=spf1 ip4:127.0.0.10 -all" } });
  rspamd = await startRspamd();
});
after(async () => {
  await rspamd?.stop();
  await dns?.stop();
});

describe("through the spam filter service", () => {
  let dir: string;
  let db: Db;
  let bus: Bus;
  let blobs: FsBlobStore;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rspamd-spam-filter-"));
    db = await createPgliteDatabase();
    bus = openBus({ kind: "embedded", db, pollIntervalMs: 50 });
    await bus.createTopics(allTopics(2));
    blobs = await FsBlobStore.open(join(dir, "blobs"));
  });
  after(async () => {
    await bus?.close();
    await db?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function classifiedThroughService(env: Record<string, string>, raw: Buffer): Promise<{ event: MailClassified; ruleErrors: string }> {
    const registry = metricsRegistry();
    const service = await spamFilterService.start({
      config: parseConfig(platformSchema, {}),
      env: { POSTLINE_DNS_SERVERS: dns.address, POSTLINE_HOSTNAME: "mx.example.test", ...env },
      logger: createLogger("rspamd-test", "silent"),
      registry,
      db,
      bus,
      blobs,
    });
    try {
      const blob = await blobs.put(raw);
      const id = newMailId();
      await publishEvent(bus, Topics.mailReceived, mailAccepted, id, {
        v: 1,
        id,
        blob,
        envelope: { mailFrom: "alice@sender.test", rcptTo: ["bob@example.test"] },
        client: { ip: "127.0.0.10", helo: "mail.sender.test", tls: false },
        receivedAt: new Date().toISOString(),
        sessionSymbols: [],
      });
      let found: (e: MailClassified) => void = () => {};
      const classified = new Promise<MailClassified>((resolve) => (found = resolve));
      const reader = await bus.consume({
        groupId: `reader-${id}`,
        topics: [Topics.mailClassified],
        handler: async (m) => {
          const e = decodeEvent(mailClassified, m);
          if (e.id === id) found(e);
        },
      });
      const event = await classified.finally(() => reader.stop());
      const ruleErrors = await registry.getSingleMetricAsString("postline_spam_filter_rule_errors_total");
      return { event, ruleErrors };
    } finally {
      await service.stop();
      registry.clear(); // the process-wide registry: the next start registers its metrics afresh
    }
  }

  test("POSTLINE_RSPAMD_URL set: the published verdict has the RSPAMD symbol with Rspamd's score", async () => {
    const { event } = await classifiedThroughService({ POSTLINE_RSPAMD_URL: rspamd.url, POSTLINE_RSPAMD_HONOUR_REJECT: "true" }, gtube());
    const hit = event.verdict.symbols.find((s) => s.name === "RSPAMD");
    assert.ok(hit, JSON.stringify(event.verdict.symbols));
    assert.ok(hit.score >= 15);
    assert.ok(event.verdict.symbols.some((s) => s.name === "RSPAMD_REJECT"));
    assert.equal(event.verdict.action, "reject");
  });

  test("Rspamd down: the service still publishes a verdict, and counts the rule error", async () => {
    const { event, ruleErrors } = await classifiedThroughService({ POSTLINE_RSPAMD_URL: "http://127.0.0.1:9", POSTLINE_RSPAMD_TIMEOUT_MS: "500" }, plain());
    assert.equal(event.verdict.symbols.some((s) => s.name.startsWith("RSPAMD")), false);
    assert.equal(event.verdict.action, "deliver");
    assert.match(ruleErrors, /rule="rspamd"} 1/);
  });
});
