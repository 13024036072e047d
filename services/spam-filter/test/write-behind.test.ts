import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createClassifier, createDnsResolver, type Classifier, type ClassifyResult } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import { addDomain, addSpamListEntry, createAccount, getSpamVerdict } from "@postline/directory";
import { newMailId, type MailAccepted } from "@postline/events";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { Registry } from "prom-client";
import { listsPolicy, replyContactsCache, replyTrackingObserver, replyTrackingPolicy, Reputation, verdictRecordObserver, writeBehindMetrics } from "../src/policy/index.ts";
import { message, signed, zones } from "./world.ts";

// The observers' write-behind (verdict record, reputation) and the account policies' read caches
// (lists, reply contacts), on the real PostgreSQL. The flush interval of these tests is an hour:
// nothing is written unless flush() or close() asks.

const HOUR = 3_600_000;
let t: TestDatabase;
let dns: DnsServer;
let bob: number;

before(async () => {
  t = await createTestDatabase();
  dns = await startDnsServer(zones);
  await addDomain(t.db, "example.test");
  bob = (await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" })).id;
});
after(async () => {
  await dns?.stop();
  await t?.drop();
});

/** The database, counting statements; `failing` > 0 makes that many next statements fail. */
function counting(): Queryable & { queries: number; failing: number } {
  const q = {
    queries: 0,
    failing: 0,
    query: ((sql: string, params?: unknown[]) => {
      q.queries++;
      if (q.failing > 0) {
        q.failing--;
        return Promise.reject(new Error("database unavailable"));
      }
      return t.db.query(sql, params);
    }) as Queryable["query"],
    exec: (sql: string) => t.db.exec(sql),
  };
  return q;
}

function verdictOf(id: string, action: "deliver" | "junk", score: number): { event: MailAccepted; source: "inbound"; result: ClassifyResult } {
  const key = "0".repeat(64);
  const event = {
    v: 1,
    id,
    blob: { key, sha256: key, size: 1 },
    envelope: { mailFrom: "alice@sender.test", rcptTo: ["bob@example.test", "carol@example.test"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "127.0.0.10", helo: "mail.sender.test", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
  } as MailAccepted;
  const result = { action, score, symbols: [{ name: "TEST", score, detail: `d${score}` }], authResults: "mx.example.test; spf=pass", accounts: [], errors: [] };
  return { event, source: "inbound", result: result as unknown as ClassifyResult };
}

async function counts(kind: string, key: string): Promise<{ good: number; bad: number } | undefined> {
  const r = await t.db.query<{ good: number; bad: number }>("SELECT good, bad FROM spam_reputation WHERE kind = $1 AND key = $2", [kind, key]);
  return r.rows[0];
}

describe("verdict record, written behind", () => {
  test("buffered, one statement a flush, one row a mail (the last verdict wins)", async () => {
    const db = counting();
    const observer = verdictRecordObserver(db, { retentionDays: 30, pruneIntervalMs: HOUR, flushMs: HOUR });
    const [a, b] = [newMailId(), newMailId()];
    await observer.observe(verdictOf(a, "deliver", 1));
    await observer.observe(verdictOf(b, "junk", 7));
    await observer.observe(verdictOf(a, "junk", 9)); // a redelivered event, classified again
    const pruned = db.queries; // the first observe prunes once (the interval starts then)
    assert.equal(await getSpamVerdict(t.db, a), null, "nothing written before the flush");
    await observer.flush();
    assert.equal(db.queries - pruned, 1, "one statement for three verdicts");
    const va = await getSpamVerdict(t.db, a);
    assert.equal(va?.action, "junk");
    assert.equal(va?.score, 9);
    assert.deepEqual(va?.symbols, [{ name: "TEST", score: 9, detail: "d9" }]);
    assert.deepEqual(va?.recipients, ["bob@example.test", "carol@example.test"]);
    assert.equal(va?.clientIp, "127.0.0.10");
    assert.equal((await getSpamVerdict(t.db, b))?.action, "junk");
    await observer.flush();
    assert.equal(db.queries - pruned, 1, "nothing waiting: no statement");
  });

  test("a full buffer is written at once; close() writes the rest", async () => {
    const observer = verdictRecordObserver(t.db, { retentionDays: 30, pruneIntervalMs: HOUR, flushMs: HOUR, flushMaxEntries: 2 });
    const ids = [newMailId(), newMailId(), newMailId()];
    for (const id of ids) await observer.observe(verdictOf(id, "deliver", 0));
    assert.ok(await getSpamVerdict(t.db, ids[0]!), "the first two were written when the buffer was full");
    assert.ok(await getSpamVerdict(t.db, ids[1]!));
    assert.equal(await getSpamVerdict(t.db, ids[2]!), null);
    await observer.close();
    assert.ok(await getSpamVerdict(t.db, ids[2]!), "written on close");
  });

  test("a failed flush is counted and retried once with the next one; failing again, the records are dropped", async () => {
    const db = counting();
    const registry = new Registry();
    const metrics = writeBehindMetrics(registry);
    const observer = verdictRecordObserver(db, { retentionDays: 30, pruneIntervalMs: HOUR, flushMs: HOUR, metrics });
    const [a, b, c] = [newMailId(), newMailId(), newMailId()];
    await observer.observe(verdictOf(a, "deliver", 0));
    db.failing = 1;
    await observer.flush(); // does not throw
    assert.equal((await metrics.flushFailures.get()).values[0]?.value, 1);
    assert.equal(await getSpamVerdict(t.db, a), null);
    await observer.observe(verdictOf(b, "deliver", 0));
    await observer.flush();
    assert.ok(await getSpamVerdict(t.db, a), "retried with the next flush");
    assert.ok(await getSpamVerdict(t.db, b));

    await observer.observe(verdictOf(c, "deliver", 0));
    db.failing = 2;
    await observer.flush();
    await observer.flush();
    assert.equal((await metrics.flushFailures.get()).values[0]?.value, 3);
    assert.equal((await metrics.dropped.get()).values[0]?.value, 1);
    await observer.flush();
    assert.equal(await getSpamVerdict(t.db, c), null, "given up after its retry failed");
    assert.equal(writeBehindMetrics(registry).flushFailures, metrics.flushFailures, "registered once a registry");
  });

  test("flushMs 0: each verdict written at once, its failure thrown to the caller", async () => {
    const db = counting();
    const observer = verdictRecordObserver(db, { retentionDays: 30, pruneIntervalMs: HOUR, flushMs: 0 });
    const a = newMailId();
    await observer.observe(verdictOf(a, "deliver", 0));
    assert.ok(await getSpamVerdict(t.db, a));
    db.failing = 1;
    await assert.rejects(observer.observe(verdictOf(newMailId(), "deliver", 0)), /database unavailable/);
  });
});

describe("reputation, written behind", () => {
  const options = { minVerdicts: 3, goodScore: 1, badScore: 5, cacheSeconds: 3600, maxAgeDays: 90, pruneIntervalMs: HOUR };

  test("verdicts summed per key: one statement, one row update a key, and the key's cached counts forgotten", async () => {
    const db = counting();
    const reputation = new Reputation(db, { ...options, flushMs: HOUR });
    const ip = { kind: "ip" as const, key: "2001:db8:1::/64" };
    const domain = { kind: "domain" as const, key: "wb.test" };
    await reputation.record([ip, domain], "bad");
    await reputation.record([ip, domain, ip], "bad");
    await reputation.record([ip], "good");
    assert.equal(db.queries, 0);
    // counts read now are cached (3600 s)...
    const before = await reputation.lookup([ip]);
    assert.deepEqual(before.get(`ip:${ip.key}`), { good: 0, bad: 0 });
    await reputation.flush();
    assert.equal(db.queries, 2, "one lookup, one write");
    assert.deepEqual(await counts("ip", ip.key), { good: 1, bad: 2 });
    assert.deepEqual(await counts("domain", domain.key), { good: 0, bad: 2 });
    // ...until this process writes the key
    assert.deepEqual((await reputation.lookup([ip])).get(`ip:${ip.key}`), { good: 1, bad: 2 });
    assert.equal(db.queries, 3);
  });

  test("the decay rule applies to a flush as to a verdict: counts at the cap are halved before adding", async () => {
    const reputation = new Reputation(t.db, { ...options, decayAt: 4, flushMs: HOUR });
    const key = { kind: "ip" as const, key: "203.0.113.0/24" };
    for (let i = 0; i < 4; i++) await reputation.record([key], "bad");
    await reputation.flush();
    assert.deepEqual(await counts("ip", key.key), { good: 0, bad: 4 });
    await reputation.record([key], "good");
    await reputation.record([key], "bad");
    await reputation.close();
    assert.deepEqual(await counts("ip", key.key), { good: 1, bad: 3 }, "4/0 halved to 2/0, then +1 good +1 bad");
  });

  test("the observer's close() writes what is waiting", async () => {
    const reputation = new Reputation(t.db, { ...options, flushMs: HOUR });
    const key = { kind: "dkim" as const, key: "close.test" };
    await reputation.record([key], "good");
    assert.equal(await counts("dkim", key.key), undefined);
    await reputation.observer().close!();
    assert.deepEqual(await counts("dkim", key.key), { good: 1, bad: 0 });
  });
});

describe("account policy caches", () => {
  let classifier: Classifier;

  async function classify(c: Classifier, raw: Buffer) {
    const r = await c.classify({
      open: async () => Readable.from([raw]),
      size: raw.length,
      source: "inbound",
      client: { ip: "127.0.0.10", helo: "mail.sender.test" },
      mailFrom: "alice@sender.test",
      accounts: [{ accountId: bob, recipients: ["bob@example.test"] }],
    });
    assert.deepEqual(r.errors, []);
    return r.accounts[0]!.symbols.map((s) => s.name).filter((n) => /LIST|REPLY/.test(n));
  }

  test("lists: one query per account and sender while cached; a change shows once the entry expires (here: a new process)", async () => {
    const db = counting();
    classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [listsPolicy(db, { cacheSeconds: 3600 })] });
    const raw = await signed(message());
    assert.deepEqual(await classify(classifier, raw), []);
    assert.deepEqual(await classify(classifier, raw), []);
    assert.equal(db.queries, 1);
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "sender.test" });
    assert.deepEqual(await classify(classifier, raw), [], "cached: the change is not seen yet");
    const fresh = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [listsPolicy(t.db, { cacheSeconds: 3600 })] });
    assert.deepEqual(await classify(fresh, raw), ["USER_BLOCKLIST"]);
    const uncached = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [listsPolicy(t.db, { cacheSeconds: 0 })] });
    assert.deepEqual(await classify(uncached, raw), ["USER_BLOCKLIST"]);
    await t.db.query("DELETE FROM spam_list_entries");
    assert.deepEqual(await classify(uncached, raw), [], "cacheSeconds 0: every message asks");
  });

  test("reply contacts: cached, and forgotten at once when this process records the account's new contacts", async () => {
    const db = counting();
    const cache = replyContactsCache(3600);
    const c = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [replyTrackingPolicy(db, { maxAgeDays: 365, cache })] });
    const observer = replyTrackingObserver(t.db, { maxContacts: 100, maxAgeDays: 365, pruneIntervalMs: HOUR, cache });
    const raw = await signed(message());
    assert.deepEqual(await classify(c, raw), []);
    assert.deepEqual(await classify(c, raw), []);
    assert.equal(db.queries, 1);
    // bob writes to alice (a submission this process classified): his cached lookups are dropped
    const key = "0".repeat(64);
    const event = {
      v: 1,
      id: newMailId(),
      blob: { key, sha256: key, size: 1 },
      envelope: { mailFrom: "bob@example.test", rcptTo: ["alice@sender.test"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
      client: { ip: "192.0.2.50", helo: "laptop", tls: true, authUser: "bob@example.test" },
      receivedAt: new Date().toISOString(),
      sessionSymbols: [],
    } as MailAccepted;
    await observer.observe({ event, source: "submission", result: { action: "deliver" } as ClassifyResult });
    assert.equal(cache.size, 0);
    assert.deepEqual(await classify(c, raw), ["REPLY_TRUSTED"]);
    assert.equal(db.queries, 2);
  });
});
