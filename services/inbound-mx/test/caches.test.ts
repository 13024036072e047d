import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setDisabled } from "@postline/directory";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { RecipientCache } from "../src/recipients.ts";
import { cachedReverseLookup } from "../src/reverse-dns.ts";
import { seedDirectory } from "./harness.ts";

// The per-process caches in front of the directory (RCPT) and reverse DNS (connect).

let t: TestDatabase;

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
});
after(async () => {
  await t?.drop();
});

/** Counts the queries that reach the database. */
function countingDb(t: TestDatabase) {
  const counter = { queries: 0 };
  const db = {
    query: (sql: string, params?: unknown[]) => {
      counter.queries++;
      return t.db.query(sql, params);
    },
  } as unknown as TestDatabase["db"];
  return { db, counter };
}

describe("RecipientCache", () => {
  test("an accepted address is accepted again from the cache until the TTL runs out", async () => {
    let now = 1_000;
    const cache = new RecipientCache(5_000, 100, () => now);
    const { db, counter } = countingDb(t);
    assert.equal(await cache.check(db, "user@example.test"), null);
    const first = counter.queries;
    assert.ok(first > 0);
    assert.equal(await cache.check(db, "USER@example.test"), null, "the address is matched case-insensitively");
    assert.equal(counter.queries, first, "no query for the cached acceptance");
    now += 5_001;
    assert.equal(await cache.check(db, "user@example.test"), null);
    assert.ok(counter.queries > first, "asked again after the TTL");
  });

  test("refusals are never cached: a change is seen on the next RCPT", async () => {
    const cache = new RecipientCache(60_000);
    const { db, counter } = countingDb(t);
    assert.equal((await cache.check(db, "nobody@example.test"))?.responseCode, 550);
    const before = counter.queries;
    assert.equal((await cache.check(db, "nobody@example.test"))?.responseCode, 550);
    assert.ok(counter.queries > before, "the refusal was looked up again");
    assert.equal((await cache.check(db, "full@example.test"))?.responseCode, 452);
    await t.db.query("UPDATE accounts SET used_bytes = 0 WHERE address = 'full@example.test'");
    try {
      assert.equal(await cache.check(db, "full@example.test"), null, "room made: accepted at once");
    } finally {
      await t.db.query("UPDATE accounts SET used_bytes = 1000 WHERE address = 'full@example.test'");
    }
  });

  test("TTL 0 asks the directory every time", async () => {
    const cache = new RecipientCache(0);
    const { db, counter } = countingDb(t);
    await setDisabled(t.db, "other@example.test", false);
    assert.equal(await cache.check(db, "other@example.test"), null);
    const first = counter.queries;
    await setDisabled(t.db, "other@example.test", true);
    try {
      assert.equal((await cache.check(db, "other@example.test"))?.responseCode, 550);
      assert.ok(counter.queries > first);
    } finally {
      await setDisabled(t.db, "other@example.test", false);
    }
  });

  test("a failed lookup is not kept", async () => {
    const cache = new RecipientCache(60_000);
    let fail = true;
    const db = {
      query: (sql: string, params?: unknown[]) => (fail ? Promise.reject(new Error("database down")) : t.db.query(sql, params)),
    } as unknown as TestDatabase["db"];
    await assert.rejects(cache.check(db, "user@example.test"), /database down/);
    fail = false;
    assert.equal(await cache.check(db, "user@example.test"), null);
  });
});

describe("cachedReverseLookup", () => {
  test("reuses a name for the TTL, shares a lookup in flight, and keeps no name for at most 10 s", async () => {
    let now = 0;
    const calls: string[] = [];
    const answers: Record<string, string | undefined> = { "192.0.2.1": "mail.example.org", "192.0.2.2": undefined };
    const lookup = cachedReverseLookup(
      async (ip) => {
        calls.push(ip);
        return answers[ip];
      },
      60_000,
      100,
      () => now,
    );
    const [a, b] = await Promise.all([lookup("192.0.2.1"), lookup("192.0.2.1")]);
    assert.equal(a, "mail.example.org");
    assert.equal(b, "mail.example.org");
    assert.deepEqual(calls, ["192.0.2.1"]);
    assert.equal(await lookup("192.0.2.2"), undefined);
    now = 9_000;
    await lookup("192.0.2.1");
    await lookup("192.0.2.2");
    assert.deepEqual(calls, ["192.0.2.1", "192.0.2.2"]);
    now = 10_001;
    await lookup("192.0.2.2");
    assert.deepEqual(calls, ["192.0.2.1", "192.0.2.2", "192.0.2.2"], "no name is asked again after 10 s");
    now = 60_001;
    await lookup("192.0.2.1");
    assert.equal(calls.filter((c) => c === "192.0.2.1").length, 2, "a name is asked again after the TTL");
  });

  test("TTL 0 is no cache", async () => {
    let n = 0;
    const lookup = cachedReverseLookup(async () => `h${++n}.example`, 0);
    assert.equal(await lookup("192.0.2.1"), "h1.example");
    assert.equal(await lookup("192.0.2.1"), "h2.example");
  });
});
