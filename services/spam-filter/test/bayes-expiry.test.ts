import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { BayesStore } from "@postline/antispam";
import { parseConfig } from "@postline/config";
import type { Db } from "@postline/db";
import { createLogger } from "@postline/telemetry";
import { createPgliteDatabase } from "@postline/testkit";
import { Registry } from "prom-client";
import { startBayesExpiry } from "../src/bayes-expiry.ts";
import { spamFilterSchema } from "../src/settings.ts";

// The spam filter's periodic Bayes expiry: it runs on its interval with the settings' ages and
// counts what went; at interval 0 it never runs.

let db: Db;
before(async () => {
  db = await createPgliteDatabase();
});
after(async () => {
  await db.close();
});

const metric = async (registry: Registry, kind: string) =>
  (await registry.getSingleMetric("postline_spam_bayes_expired_total")!.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;

it("expires on its interval with the configured ages; 0 = off", async () => {
  const store = new BayesStore(db);
  await store.learn(null, "old", "spam", ["b:once", "b:twice"]);
  await store.learn(null, "old-too", "ham", ["b:twice"]);
  await db.query("UPDATE bayes_tokens SET learned_at = now() - interval '40 days'");
  await db.query("UPDATE bayes_learned SET learned_at = now() - interval '40 days'");
  const logger = createLogger("bayes-expiry-test", "silent");

  const off = new Registry();
  const stopOff = startBayesExpiry({ db, logger, registry: off, settings: parseConfig(spamFilterSchema, { POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS: "0" }) });
  await stopOff();
  assert.equal(off.getSingleMetric("postline_spam_bayes_expired_total"), undefined, "not started");

  const registry = new Registry();
  const settings = parseConfig(spamFilterSchema, {
    POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS: "1",
    POSTLINE_SPAM_BAYES_EXPIRE_DAYS: "30",
    POSTLINE_SPAM_BAYES_RECORD_DAYS: "60",
  });
  const stop = startBayesExpiry({ db, logger, registry, settings });
  try {
    for (let i = 0; i < 50 && (await metric(registry, "token")) === 0; i++) await sleep(100);
  } finally {
    await stop();
  }
  assert.equal(await metric(registry, "token"), 1, "b:once (one message, 40 days) went; b:twice (two messages) stays");
  assert.equal(await metric(registry, "record"), 0, "records are kept 60 days");
  assert.deepEqual(await store.stats(null), { spam: 1, ham: 1, tokens: 1 });
});
