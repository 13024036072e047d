import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createClassifier, type AccountPolicy } from "@postline/antispam";
import { FsBlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import { addAlias, addDomain, createAccount, setCatchAll } from "@postline/directory";
import { mailClassified, newMailId, type MailAccepted, type MailClassified } from "@postline/events";
import { createLogger } from "@postline/telemetry";
import { createPgliteDatabase } from "@postline/testkit";
import { Registry } from "prom-client";
import { spamFilterMetrics } from "../src/metrics.ts";
import { RecipientAccounts } from "../src/recipients.ts";
import { classifyAndPublish, differingAccounts } from "../src/service.ts";

// Per-account verdicts in mail.classified: the envelope recipients resolved to local accounts
// (aliases, catch-all), each classified with the account policies; only those that differ from the
// message's verdict travel in the event.

let dir: string;
let db: Db;
let bus: Bus;
let blobs: FsBlobStore;
const ids: Record<string, number> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "spam-accounts-"));
  db = await createPgliteDatabase();
  bus = openBus({ kind: "embedded", db, pollIntervalMs: 25 });
  await bus.createTopics(allTopics(4));
  blobs = await FsBlobStore.open(join(dir, "blobs"));
  await addDomain(db, "acct.test");
  for (const name of ["alice", "bob", "carol"]) ids[name] = (await createAccount(db, { address: `${name}@acct.test`, password: "correct horse battery staple" })).id;
  await addAlias(db, "team@acct.test", "alice@acct.test");
  await addAlias(db, "team@acct.test", "bob@acct.test");
  await setCatchAll(db, "acct.test", "carol@acct.test");
});
after(async () => {
  await bus?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

test("recipients resolve to local accounts once each, through aliases and the catch-all; remote ones have none", async () => {
  const recipients = new RecipientAccounts(db);
  assert.deepEqual(await recipients.resolve(["team@acct.test", "Alice@acct.test", "nobody@acct.test", "x@remote.example"]), [
    { accountId: ids.alice, recipients: ["team@acct.test", "Alice@acct.test"] },
    { accountId: ids.bob, recipients: ["team@acct.test"] },
    { accountId: ids.carol, recipients: ["nobody@acct.test"] },
  ]);
});

test("differingAccounts keeps only the account verdicts that differ from the message's", () => {
  const message = { action: "deliver" as const, score: 1, symbols: [{ name: "A", score: 1 }] };
  assert.deepEqual(
    differingAccounts(message, [
      { accountId: 1, ...message },
      { accountId: 2, action: "deliver", score: 1.5, symbols: [{ name: "A", score: 1 }, { name: "B", score: 0.5 }] },
    ]),
    [{ accountId: 2, action: "deliver", score: 1.5, symbols: [{ name: "A", score: 1 }, { name: "B", score: 0.5 }] }],
  );
});

test("mail.classified carries the differing account verdicts", async () => {
  // An account policy of the test: alice's "model" finds the message spammy.
  const policy: AccountPolicy = { name: "test-account", check: (ctx) => (ctx.accountId === ids.alice ? [{ name: "TEST_USER_SPAM", score: 6, detail: ctx.recipients.join(",") }] : []) };
  const classifier = createClassifier({ hostname: "mx.acct.test", resolver: async () => [], accountPolicies: [policy] });
  const handle = classifyAndPublish({
    classifier,
    bus,
    blobs,
    logger: createLogger("spam-accounts-test", "silent"),
    metrics: spamFilterMetrics(new Registry()),
    recipients: new RecipientAccounts(db),
  });
  const raw = Buffer.from("From: a@remote.example\r\nTo: team@acct.test\r\nSubject: hello\r\nDate: Tue, 7 May 2024 10:00:00 +0000\r\nMessage-ID: <h@remote.example>\r\n\r\nHello.\r\n");
  const ref = await blobs.put(raw);
  const event = (rcptTo: string[]): MailAccepted => ({
    v: 1,
    id: newMailId(),
    blob: { key: ref.key, sha256: ref.key, size: ref.size },
    envelope: { mailFrom: "a@remote.example", rcptTo, smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "127.0.0.1", helo: "localhost", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
  });
  const toTeam = event(["team@acct.test"]);
  const toBob = event(["bob@acct.test"]);
  await handle(toTeam, { topic: Topics.mailReceived });
  await handle(toBob, { topic: Topics.mailReceived });

  const seen = new Map<string, MailClassified>();
  await new Promise<void>((resolve, reject) => {
    void bus
      .consume({
        groupId: "test-reader",
        topics: [Topics.mailClassified],
        handler: async (m) => {
          const e = mailClassified.parse(JSON.parse(m.value.toString("utf8")));
          seen.set(e.id, e);
          if (seen.size === 2) resolve();
        },
      })
      .catch(reject);
  });
  const team = seen.get(toTeam.id)!.verdict;
  assert.equal(team.accounts?.length, 1);
  const alice = team.accounts![0]!;
  assert.equal(alice.accountId, ids.alice);
  assert.equal(alice.action, "junk");
  assert.equal(alice.score, Math.round((team.score + 6) * 100) / 100);
  assert.deepEqual(alice.symbols.at(-1), { name: "TEST_USER_SPAM", score: 6, detail: "team@acct.test" });
  assert.deepEqual(alice.symbols.slice(0, -1), team.symbols);
  // Only bob: his verdict is the message's, nothing extra in the event.
  assert.equal(seen.get(toBob.id)!.verdict.accounts, undefined);
});
