import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createClassifier, createDnsResolver, defaultRules, type Classifier, type ClassifyResult, type ScoredSymbol } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import { newMailId, type MailAccepted } from "@postline/events";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { ipReputationKey, Reputation, reputationHit, reputationKeys, verdictClass, type ReputationOptions } from "../src/policy/index.ts";
import { message, signed, zones } from "./world.ts";

// Reputation on the real PostgreSQL with real authentication and DNSBL (world.ts: sender.test
// authorises 127.0.0.10; 127.0.0.13 is listed on bl.test).

let t: TestDatabase;
let dns: DnsServer;

before(async () => {
  t = await createTestDatabase();
  dns = await startDnsServer(zones);
});
after(async () => {
  await dns?.stop();
  await t?.drop();
});

const options: ReputationOptions = { minVerdicts: 3, goodScore: 1, badScore: 5, cacheSeconds: 0, maxAgeDays: 90, pruneIntervalMs: 0 };

function classifierWith(reputation: Reputation): Classifier {
  return createClassifier({
    hostname: "mx.example.test",
    resolver: createDnsResolver([dns.address]),
    dnsblZones: ["bl.test"],
    rules: [...defaultRules, reputation.rule()],
  });
}

async function classify(classifier: Classifier, raw: Buffer, client: { ip: string; mailFrom: string }): Promise<{ result: ClassifyResult; event: MailAccepted }> {
  const result = await classifier.classify({
    open: async () => Readable.from([raw]),
    size: raw.length,
    source: "inbound",
    client: { ip: client.ip, helo: "mail.sender.test" },
    mailFrom: client.mailFrom,
  });
  assert.deepEqual(result.errors, []);
  const key = "0".repeat(64);
  const event = {
    v: 1,
    id: newMailId(),
    blob: { key, sha256: key, size: raw.length },
    envelope: { mailFrom: client.mailFrom, rcptTo: ["bob@example.test"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: client.ip, helo: "mail.sender.test", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
  } as MailAccepted;
  return { result, event };
}

async function counts(kind: string, key: string): Promise<{ good: number; bad: number } | undefined> {
  const r = await t.db.query<{ good: number; bad: number }>("SELECT good, bad FROM spam_reputation WHERE kind = $1 AND key = $2", [kind, key]);
  return r.rows[0];
}
const reputationSymbols = (r: ClassifyResult): ScoredSymbol[] => r.symbols.filter((s) => s.name.startsWith("REPUTATION_"));

describe("scoring and counting", () => {
  test("a key scores only after the minimum, scaled by how one-sided it is, bounded by the symbol table", () => {
    assert.equal(reputationHit("ip", "192.0.2.0/24", 0, 9, 10), null, "too few verdicts");
    assert.deepEqual(reputationHit("ip", "192.0.2.0/24", 0, 10, 10), { name: "REPUTATION_IP_BAD", score: 3, detail: "192.0.2.0/24: 10 bad / 0 good" });
    assert.equal(reputationHit("domain", "a.test", 1, 9, 10)!.score, 2.4); // 3.0 × (0.9·2 − 1)
    assert.equal(reputationHit("domain", "a.test", 10, 0, 10)!.name, "REPUTATION_DOMAIN_GOOD");
    assert.equal(reputationHit("domain", "a.test", 10, 0, 10)!.score, -2);
    assert.equal(reputationHit("dkim", "a.test", 8, 2, 10)!.score, -0.9); // −1.5 × 0.6
    assert.equal(reputationHit("dkim", "a.test", 6, 5, 10), null, "too even to say");
  });

  test("good or bad from the score without the reputation symbols; no symbols, no count", () => {
    const o = { goodScore: 1, badScore: 5 };
    const s = (name: string, score: number) => ({ name, score });
    assert.equal(verdictClass([s("RBL_LISTED", 7)], o), "bad");
    assert.equal(verdictClass([s("DMARC_PASS", -1), s("SPF_PASS", -0.5)], o), "good");
    assert.equal(verdictClass([s("RDNS_NONE", 1.5), s("MISSING_DATE", 1)], o), null, "in between");
    assert.equal(verdictClass([s("REPUTATION_IP_BAD", 3), s("RDNS_NONE", 1.5), s("MISSING_DATE", 1)], o), null, "reputation does not make it bad");
    assert.equal(verdictClass([s("REPUTATION_IP_GOOD", -1.5), s("RDNS_NONE", 1.5)], o), null, "nor good");
    assert.equal(verdictClass([s("REPUTATION_DOMAIN_GOOD", -2)], o), null, "only reputation: no signal");
    assert.equal(verdictClass([], o), null);
  });

  test("IP keys: IPv4 /24, IPv6 /64, IPv4-mapped as IPv4", () => {
    assert.equal(ipReputationKey("192.0.2.77"), "192.0.2.0/24");
    assert.equal(ipReputationKey("::ffff:192.0.2.77"), "192.0.2.0/24");
    assert.equal(ipReputationKey("2001:db8:0:12:abcd::1"), "2001:db8:0:12::/64");
    assert.equal(ipReputationKey("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(ipReputationKey("not-an-ip"), null);
  });
});

describe("learning from verdicts", () => {
  test("keys: the client network and only authenticated domains", async () => {
    const classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]) });
    const good = await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(reputationKeys({ ...good.event, mailFrom: "alice@sender.test", content: good.result.content, auth: good.result.auth }), [
      { kind: "ip", key: "127.0.0.0/24" },
      { kind: "domain", key: "sender.test" },
      { kind: "dkim", key: "sender.test" },
    ]);
    // the same claims, unsigned and from an address SPF refuses: only the network is known
    const forged = await classify(classifier, message(), { ip: "127.0.0.99", mailFrom: "alice@sender.test" });
    assert.deepEqual(reputationKeys({ ...forged.event, mailFrom: "alice@sender.test", content: forged.result.content, auth: forged.result.auth }), [
      { kind: "ip", key: "127.0.0.0/24" },
    ]);
  });

  test("bad verdicts build a bad reputation, which then does not feed itself", async () => {
    const reputation = new Reputation(t.db, options);
    const classifier = classifierWith(reputation);
    const observer = reputation.observer();
    const spam = message({ from: "x@lister.test", subject: "CHEAP PILLS NOW", date: false });
    for (let i = 0; i < 3; i++) {
      const { result, event } = await classify(classifier, spam, { ip: "127.0.0.13", mailFrom: "x@lister.test" });
      assert.ok(result.symbols.some((s) => s.name === "RBL_LISTED"));
      assert.deepEqual(reputationSymbols(result), [], `not before the minimum (verdict ${i + 1})`);
      await observer.observe({ event, source: "inbound", result });
    }
    assert.deepEqual(await counts("ip", "127.0.0.0/24"), { good: 0, bad: 3 });

    // a neighbour of the listed address: not on the DNSBL, but its /24 has a bad name now
    const { result, event } = await classify(classifier, spam, { ip: "127.0.0.20", mailFrom: "x@lister.test" });
    assert.deepEqual(reputationSymbols(result), [{ name: "REPUTATION_IP_BAD", score: 3, detail: "127.0.0.0/24: 3 bad / 0 good" }]);
    assert.ok(result.score >= 5, `junk only thanks to reputation: ${result.score}`);
    await observer.observe({ event, source: "inbound", result });
    assert.deepEqual(await counts("ip", "127.0.0.0/24"), { good: 0, bad: 3 }, "its own contribution is not counted");

    // submitted mail is never counted
    await observer.observe({ event, source: "submission", result: { ...result, symbols: [{ name: "RBL_LISTED", score: 7 }] } });
    assert.deepEqual(await counts("ip", "127.0.0.0/24"), { good: 0, bad: 3 });
  });

  test("good verdicts of an authenticated sender make its domain and DKIM domain good", async () => {
    const reputation = new Reputation(t.db, options);
    const classifier = classifierWith(reputation);
    const observer = reputation.observer();
    for (let i = 0; i < 3; i++) {
      const { result, event } = await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
      await observer.observe({ event, source: "inbound", result });
    }
    assert.deepEqual(await counts("domain", "sender.test"), { good: 3, bad: 0 });
    assert.deepEqual(await counts("dkim", "sender.test"), { good: 3, bad: 0 });
    assert.deepEqual(await counts("ip", "127.0.0.0/24"), { good: 3, bad: 3 });

    const { result } = await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(reputationSymbols(result), [
      { name: "REPUTATION_DOMAIN_GOOD", score: -2, detail: "sender.test: 0 bad / 3 good" },
      { name: "REPUTATION_DKIM_GOOD", score: -1.5, detail: "sender.test: 0 bad / 3 good" },
    ]);
    // a forger of the same From gets none of it
    const forged = await classify(classifier, message(), { ip: "127.0.0.99", mailFrom: "alice@sender.test" });
    assert.deepEqual(reputationSymbols(forged.result).map((s) => s.name), [], "the /24 is even (3/3): no IP symbol either");
  });

  test("one query per message for all its keys, and counts cached between messages", async () => {
    let queries = 0;
    const counting: Queryable = {
      query: (sql, params) => {
        queries++;
        return t.db.query(sql, params);
      },
      exec: (sql) => t.db.exec(sql),
    };
    const cached = new Reputation(counting, { ...options, cacheSeconds: 3600 });
    const classifier = classifierWith(cached);
    await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.equal(queries, 1, "ip, domain and dkim keys in one query");
    await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.equal(queries, 1, "served from the cache");
    // another replica counts a verdict: this one sees it only once its cache expires
    await new Reputation(t.db, options).record([{ kind: "domain", key: "sender.test" }], "bad");
    const stale = await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.match(reputationSymbols(stale.result).find((s) => s.name === "REPUTATION_DOMAIN_GOOD")!.detail!, /0 bad \/ 3 good/);
    // its own verdicts drop the keys from its cache
    await cached.record([{ kind: "domain", key: "sender.test" }], "good");
    const fresh = await classify(classifier, await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.match(reputationSymbols(fresh.result).find((s) => s.name === "REPUTATION_DOMAIN_GOOD")!.detail!, /1 bad \/ 4 good/);
    assert.equal(queries, 3, "one record, one lookup of the dropped key");
  });

  test("counts halve when they reach the cap; keys unseen for maxAgeDays are forgotten", async () => {
    const reputation = new Reputation(t.db, { ...options, decayAt: 4 });
    const key = { kind: "ip" as const, key: "203.0.113.0/24" };
    for (let i = 0; i < 4; i++) await reputation.record([key], "bad");
    assert.deepEqual(await counts("ip", key.key), { good: 0, bad: 4 });
    await reputation.record([key], "good");
    assert.deepEqual(await counts("ip", key.key), { good: 1, bad: 2 });

    await t.db.query("UPDATE spam_reputation SET updated_at = now() - interval '91 days' WHERE key = $1", [key.key]);
    const classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]) });
    const { result, event } = await classify(classifier, message({ from: "x@y.test" }), { ip: "198.51.100.1", mailFrom: "x@y.test" });
    await reputation.observer().observe({ event, source: "inbound", result });
    assert.equal(await counts("ip", key.key), undefined);
    assert.ok(await counts("ip", "127.0.0.0/24"), "recent keys stay");
  });
});
