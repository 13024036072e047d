import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { BayesStore, bayesTokens, createClassifier, defaultRules, type DnsResolve, type RuleHit, type Source } from "@postline/antispam";
import type { Db } from "@postline/db";
import { mailAccepted, newMailId, type MailAccepted } from "@postline/events";
import { createPgliteDatabase } from "@postline/testkit";
import { Registry } from "prom-client";
import { autolearnClass, autolearnObserver } from "../src/autolearn.ts";

// Autolearn on PGlite: a real classification (its hits given as the spam filter's own symbols),
// observed as the service does after publishing mail.classified.

const MESSAGE = Buffer.from(
  [
    "From: Deals <deals@remote.example>",
    "To: alice@learn.test",
    "Subject: Cheap watches for you",
    "Date: Tue, 7 May 2024 10:00:00 +0000",
    "Message-ID: <w1@remote.example>",
    "",
    "Replica watches at unbelievable prices. Click http://watches.example/buy now.",
    "",
  ].join("\r\n"),
);
const silentResolver = (async () => {
  throw Object.assign(new Error("no DNS here"), { code: "ENOTFOUND" });
}) as unknown as DnsResolve;
const classifier = createClassifier({ hostname: "mx.learn.test", resolver: silentResolver, dnsblZones: [], rules: defaultRules });

function event(): MailAccepted {
  const sha = createHash("sha256").update(MESSAGE).digest("hex");
  return mailAccepted.parse({
    v: 1,
    id: newMailId(),
    blob: { key: sha, sha256: sha, size: MESSAGE.length },
    envelope: { mailFrom: "deals@remote.example", rcptTo: ["alice@learn.test"] },
    client: { ip: "192.0.2.1", helo: "mx.remote.example", tls: false },
    receivedAt: new Date().toISOString(),
  });
}

async function verdict(hits: RuleHit[], source: Source = "inbound") {
  const result = await classifier.classify({
    open: async () => Readable.from([MESSAGE]),
    size: MESSAGE.length,
    source,
    client: { ip: "192.0.2.1", helo: "mx.remote.example" },
    mailFrom: "deals@remote.example",
    authenticate: false,
    hits,
  });
  return { event: event(), source, result };
}

describe("Bayes autolearn", () => {
  let db: Db;
  let store: BayesStore;
  before(async () => {
    db = await createPgliteDatabase();
    store = new BayesStore(db);
  });
  after(async () => {
    await db.close();
  });

  it("learns a clear spam into the global model under its mail id, once", async () => {
    const observer = autolearnObserver(store, { spamScore: 12, hamScore: -1, registry: new Registry() });
    const v = await verdict([{ name: "RBL_LISTED" }, { name: "EXECUTABLE_ATTACHMENT" }]);
    await observer.observe(v);
    await observer.observe(v); // a redelivered event
    const stats = await store.stats(null);
    assert.equal(stats.spam, 1);
    assert.equal(stats.ham, 0);
    assert.ok(stats.tokens > 5);
    assert.equal(await store.learn(null, v.event.id, "spam", ["b:x"]), "already", "keyed by the mail id");
  });

  it("learns in batches with a flush interval: nothing before the flush, then each message once, with the counts of learning them one by one", async () => {
    const batched = new BayesStore(db);
    const observer = autolearnObserver(batched, { spamScore: 12, hamScore: -1, flushMs: 3_600_000 });
    const spams = await Promise.all([1, 2, 3].map(() => verdict([{ name: "RBL_LISTED" }, { name: "EXECUTABLE_ATTACHMENT" }])));
    const before = await batched.stats(null);
    for (const v of spams) await observer.observe(v);
    await observer.observe(spams[0]!); // a redelivered event within the interval
    assert.deepEqual(await batched.stats(null), before, "buffered until the flush");
    await observer.close!();
    const after = await batched.stats(null);
    assert.equal(after.spam - before.spam, 3);
    assert.equal(after.ham - before.ham, 0);
    assert.equal(await batched.learn(null, spams[1]!.event.id, "spam", ["b:x"]), "already", "keyed by the mail id");

    // The batch's token counts are those of three single learns of the same tokens.
    const single = await createPgliteDatabase();
    try {
      const one = new BayesStore(single);
      for (const v of spams) await one.learn(null, `${v.event.id}-single`, "spam", bayesTokens(v.result.content));
      const counts = (d: Db) =>
        d.query<{ token: string; nspam: number; nham: number }>(
          "SELECT token::text, nspam, nham FROM bayes_tokens WHERE model_id = (SELECT id FROM bayes_models WHERE account_id IS NULL) ORDER BY token",
        );
      const fresh = await createPgliteDatabase();
      try {
        const many = new BayesStore(fresh);
        const outcomes = await many.learnMany(null, spams.map((v) => ({ messageKey: v.event.id, cls: "spam" as const, hashes: many.hashesOf(v.result.content) })));
        assert.deepEqual(outcomes, ["learned", "learned", "learned"]);
        assert.deepEqual((await counts(fresh)).rows, (await counts(single)).rows);
      } finally {
        await fresh.close();
      }
    } finally {
      await single.close();
    }
  });

  it("does not let the Bayes symbols decide: a verdict spammy only by Bayes is not learned", async () => {
    const observer = autolearnObserver(store, { spamScore: 12, hamScore: -1 });
    const v = await verdict([{ name: "RBL_LISTED" }, { name: "BAYES_SPAM", score: 6 }]);
    assert.ok(v.result.score >= 12);
    assert.equal(autolearnClass(v.result, { spamScore: 12, hamScore: -1 }), null);
    const before = await store.stats(null);
    await observer.observe(v);
    assert.deepEqual(await store.stats(null), before);
    // nor hammy only by Bayes
    const h = await verdict([{ name: "BAYES_HAM", score: -3 }]);
    assert.equal(autolearnClass(h.result, { spamScore: 12, hamScore: -1 }), null);
  });

  it("learns ham from authenticated-looking clean mail; never from submitted mail", async () => {
    // (the client has no reverse DNS here: RDNS_NONE +1.5 with the passes' -2 → -0.5)
    const observer = autolearnObserver(store, { spamScore: 12, hamScore: 0 });
    const before = await store.stats(null);
    const clean = await verdict([{ name: "DMARC_PASS" }, { name: "DKIM_PASS" }, { name: "SPF_PASS" }]);
    assert.ok(clean.result.score <= 0, JSON.stringify(clean.result.symbols));
    await observer.observe(clean);
    assert.equal((await store.stats(null)).ham, before.ham + 1);
    await observer.observe(await verdict([{ name: "DMARC_PASS" }, { name: "DKIM_PASS" }, { name: "SPF_PASS" }], "submission"));
    await observer.observe(await verdict([{ name: "RBL_LISTED" }, { name: "EXECUTABLE_ATTACHMENT" }], "submission"));
    assert.deepEqual({ ...(await store.stats(null)), tokens: 0 }, { spam: before.spam, ham: before.ham + 1, tokens: 0 });
    // in between the thresholds: unsure, not learned
    await observer.observe(await verdict([{ name: "MISSING_DATE" }]));
    assert.equal((await store.stats(null)).ham, before.ham + 1);
  });
});
