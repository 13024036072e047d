import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { createClassifier, createDnsResolver, defaultRules, type Classifier, type ClassifyResult } from "@postline/antispam";
import { parseConfig } from "@postline/config";
import type { Db } from "@postline/db";
import { addDomain, addSpamListEntry, createAccount, getSpamVerdict } from "@postline/directory";
import { newMailId, type MailAccepted } from "@postline/events";
import { createPgliteDatabase, createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { listsPolicy, reputationAndListPolicies, verdictRecordObserver } from "../src/policy/index.ts";
import { spamFilterSchema } from "../src/settings.ts";
import { message, signed, zones } from "./world.ts";

let t: TestDatabase;
let dns: DnsServer;
let classifier: Classifier;
let bob: number;
let carol: number;

before(async () => {
  t = await createTestDatabase();
  dns = await startDnsServer(zones);
  await addDomain(t.db, "example.test");
  bob = (await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" })).id;
  carol = (await createAccount(t.db, { address: "carol@example.test", password: "correct horse battery" })).id;
  classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [listsPolicy(t.db)] });
});
after(async () => {
  await dns?.stop();
  await t?.drop();
});

async function classified(raw: Buffer, c: Classifier = classifier): Promise<{ event: MailAccepted; source: "inbound"; result: ClassifyResult }> {
  const result = await c.classify({
    open: async () => Readable.from([raw]),
    size: raw.length,
    source: "inbound",
    client: { ip: "127.0.0.10", helo: "mail.sender.test" },
    mailFrom: "alice@sender.test",
    accounts: [
      { accountId: bob, recipients: ["bob@example.test"] },
      { accountId: carol, recipients: ["carol@example.test"] },
    ],
  });
  const key = "0".repeat(64);
  const event = {
    v: 1,
    id: newMailId(),
    blob: { key, sha256: key, size: raw.length },
    envelope: { mailFrom: "alice@sender.test", rcptTo: ["bob@example.test", "carol@example.test"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "127.0.0.10", helo: "mail.sender.test", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
  } as MailAccepted;
  return { event, source: "inbound", result };
}

test("every verdict is recorded with its symbols, details, account verdicts and Authentication-Results", async () => {
  await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "sender.test", comment: "no thanks" });
  const observer = verdictRecordObserver(t.db, { retentionDays: 30 });
  const { event, result } = await classified(await signed(message()));
  await observer.observe({ event, source: "inbound", result });

  const v = await getSpamVerdict(t.db, event.id);
  assert.ok(v);
  assert.equal(v.mailId, event.id);
  assert.equal(v.source, "inbound");
  assert.equal(v.action, result.action);
  assert.equal(v.score, result.score);
  assert.deepEqual(v.symbols, result.symbols);
  assert.ok(v.symbols.some((s) => s.name === "DKIM_PASS" && s.detail === "sender.test" && s.score === -0.5));
  assert.match(v.authResults, /spf=pass/);
  assert.match(v.authResults, /dmarc=pass/);
  assert.equal(v.mailFrom, "alice@sender.test");
  assert.deepEqual(v.recipients, ["bob@example.test", "carol@example.test"]);
  assert.equal(v.clientIp, "127.0.0.10");
  assert.ok(Date.now() - Date.parse(v.classifiedAt) < 3_600_000);
  assert.deepEqual(
    v.accounts.map((a) => [a.address, a.action, a.symbols.some((s) => s.name === "USER_BLOCKLIST")]),
    [
      ["bob@example.test", "reject", true],
      ["carol@example.test", result.action, false],
    ],
  );
  assert.equal(v.accounts[0]!.score, result.accounts[0]!.score);
  assert.equal(await getSpamVerdict(t.db, newMailId()), null);
  await t.db.query("DELETE FROM spam_list_entries");
});

test("classifying the same mail again replaces its record", async () => {
  const observer = verdictRecordObserver(t.db, { retentionDays: 30 });
  const first = await classified(message({ subject: "HELLO THERE FRIEND", date: false }));
  await observer.observe(first);
  const again = await classified(await signed(message()));
  await observer.observe({ event: first.event, source: "inbound", result: again.result });
  const v = await getSpamVerdict(t.db, first.event.id);
  assert.deepEqual(v!.symbols, again.result.symbols);
  const n = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM spam_verdicts WHERE mail_id = $1", [first.event.id]);
  assert.equal(n.rows[0]!.n, 1);
});

test("verdicts older than the retention are deleted, in batches, by the periodic prune", async () => {
  const observer = verdictRecordObserver(t.db, { retentionDays: 30, pruneIntervalMs: 0, pruneBatch: 2 });
  const old: string[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await classified(message());
    await observer.observe(c);
    old.push(c.event.id);
  }
  await t.db.query("UPDATE spam_verdicts SET classified_at = now() - interval '31 days' WHERE mail_id = ANY($1)", [old]);
  const recent = await classified(message());
  await observer.observe(recent); // records, then prunes one batch of 2
  const left = (await Promise.all(old.map((id) => getSpamVerdict(t.db, id)))).filter((v) => v !== null);
  assert.equal(left.length, 1);
  assert.equal(await observer.prune(), 1);
  for (const id of old) assert.equal(await getSpamVerdict(t.db, id), null);
  assert.ok(await getSpamVerdict(t.db, recent.event.id), "recent verdicts stay");
  assert.equal(await observer.prune(), 0);
});

test("from the settings: recording on by default, off with a retention of 0; the same SQL on PGlite", async () => {
  const base = { POSTLINE_HOSTNAME: "mx.example.test" };
  const on = reputationAndListPolicies({ db: t.db, settings: parseConfig(spamFilterSchema, base) });
  assert.deepEqual(on.observers.map((o) => o.name), ["verdict-record", "reputation", "reply-tracking"]);
  assert.deepEqual(on.rules.map((r) => r.name), ["reputation"]);
  assert.deepEqual(on.accountPolicies.map((p) => p.name), ["lists", "reply-tracking"]);
  const off = reputationAndListPolicies({
    db: t.db,
    settings: parseConfig(spamFilterSchema, { ...base, POSTLINE_SPAM_VERDICT_RETENTION_DAYS: "0", POSTLINE_SPAM_REPUTATION: "false" }),
  });
  assert.deepEqual(off.observers.map((o) => o.name), ["reply-tracking"]);
  assert.deepEqual(off.rules, []);

  // standalone mode runs the same statements on PGlite: every policy end to end
  const lite: Db = await createPgliteDatabase();
  try {
    await addDomain(lite, "example.test");
    const dave = (await createAccount(lite, { address: "dave@example.test", password: "correct horse battery" })).id;
    await addSpamListEntry(lite, { account: "dave@example.test", kind: "block", value: "127.0.0.0/24" });
    const policies = reputationAndListPolicies({ db: lite, settings: parseConfig(spamFilterSchema, base) });
    const c = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), rules: [...defaultRules, ...policies.rules], accountPolicies: policies.accountPolicies });
    const raw = await signed(message());
    const result = await c.classify({
      open: async () => Readable.from([raw]),
      size: raw.length,
      source: "inbound",
      client: { ip: "127.0.0.10", helo: "mail.sender.test" },
      mailFrom: "alice@sender.test",
      accounts: [{ accountId: dave, recipients: ["dave@example.test"] }],
    });
    assert.deepEqual(result.errors, []);
    assert.ok(result.accounts[0]!.symbols.some((s) => s.name === "USER_BLOCKLIST"));
    const { event } = await classified(raw);
    for (const o of policies.observers) await o.observe({ event, source: "inbound", result });
    // written behind (POSTLINE_SPAM_OBSERVER_FLUSH_MS, 200 ms by default): stopping writes them
    for (const o of policies.observers) await o.close?.();
    assert.equal((await getSpamVerdict(lite, event.id))!.accounts[0]!.address, "dave@example.test");
    const rep = await lite.query<{ n: number }>("SELECT count(*)::int AS n FROM spam_reputation");
    assert.equal(rep.rows[0]!.n, 3);
  } finally {
    await lite.close();
  }
});
