import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { createClassifier, createDnsResolver, type Classifier, type ClassifyResult } from "@postline/antispam";
import { addDomain, createAccount } from "@postline/directory";
import { newMailId, type MailAccepted } from "@postline/events";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { replyTrackingObserver, replyTrackingPolicy } from "../src/policy/index.ts";
import { message, signed, zones } from "./world.ts";

// Reply tracking on the real PostgreSQL with real authentication (world.ts: sender.test, SPF for
// 127.0.0.10, DKIM, DMARC p=reject).

let t: TestDatabase;
let dns: DnsServer;
let classifier: Classifier;
let bob: number;
let carol: number;

before(async () => {
  t = await createTestDatabase();
  dns = await startDnsServer(zones);
  classifier = createClassifier({
    hostname: "mx.example.test",
    resolver: createDnsResolver([dns.address]),
    accountPolicies: [replyTrackingPolicy(t.db, { maxAgeDays: 365 })],
  });
  await addDomain(t.db, "example.test");
  bob = (await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" })).id;
  carol = (await createAccount(t.db, { address: "carol@example.test", password: "correct horse battery" })).id;
});
after(async () => {
  await dns?.stop();
  await t?.drop();
});

async function classify(raw: Buffer, source: "inbound" | "submission", client: { ip: string; mailFrom: string; authUser?: string }): Promise<ClassifyResult> {
  return classifier.classify({
    open: async () => Readable.from([raw]),
    size: raw.length,
    source,
    client: { ip: client.ip, helo: "mail.sender.test", ...(client.authUser ? { authUser: client.authUser } : {}) },
    mailFrom: client.mailFrom,
    accounts:
      source === "inbound"
        ? [
            { accountId: bob, recipients: ["bob@example.test"] },
            { accountId: carol, recipients: ["carol@example.test"] },
          ]
        : [],
  });
}

function submitted(authUser: string | undefined, rcptTo: string[], receivedAt = new Date()): MailAccepted {
  const key = "0".repeat(64);
  return {
    v: 1,
    id: newMailId(),
    blob: { key, sha256: key, size: 1 },
    envelope: { mailFrom: authUser ?? "", rcptTo, smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "192.0.2.50", helo: "laptop", tls: true, ...(authUser ? { authUser } : {}) },
    receivedAt: receivedAt.toISOString(),
    sessionSymbols: [],
  } as MailAccepted;
}

async function contacts(accountId: number): Promise<string[]> {
  const r = await t.db.query<{ address: string }>("SELECT address FROM spam_reply_contacts WHERE account_id = $1 ORDER BY address", [accountId]);
  return r.rows.map((row) => row.address);
}

const replySymbols = (r: ClassifyResult, i: number) => r.accounts[i]!.symbols.filter((s) => s.name.startsWith("REPLY_"));

test("the recipients of an account's submitted mail become trusted senders for that account only", async () => {
  const observer = replyTrackingObserver(t.db, { maxContacts: 100, maxAgeDays: 365, pruneIntervalMs: 0 });
  const out = await classify(message({ from: "bob@example.test" }), "submission", { ip: "192.0.2.50", mailFrom: "bob@example.test", authUser: "bob@example.test" });
  await observer.observe({ event: submitted("Bob@Example.test", ["Alice@Sender.test", "bob@example.test", "team@far.test"]), source: "submission", result: out });
  assert.deepEqual(await contacts(bob), ["alice@sender.test", "team@far.test"], "lower-cased, without the account itself");
  assert.deepEqual(await contacts(carol), []);

  // alice answers, signed and from her SPF address: authenticated
  const reply = await classify(await signed(message({ subject: "Re: Minutes" })), "inbound", { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
  assert.deepEqual(replySymbols(reply, 0), [{ name: "REPLY_TRUSTED", score: -3, detail: "alice@sender.test" }]);
  assert.deepEqual(replySymbols(reply, 1), [], "carol never wrote to alice");
  assert.equal(reply.accounts[0]!.score, Math.round((reply.score - 3) * 100) / 100);

  // someone claiming to be alice: unsigned, from an address sender.test's SPF does not allow
  const forged = await classify(message(), "inbound", { ip: "127.0.0.99", mailFrom: "alice@sender.test" });
  assert.deepEqual(replySymbols(forged, 0), [{ name: "REPLY_UNVERIFIED", score: -0.5, detail: "alice@sender.test" }]);

  // a stranger
  const stranger = await classify(message({ from: "x@stranger.test" }), "inbound", { ip: "127.0.0.99", mailFrom: "x@stranger.test" });
  assert.deepEqual(replySymbols(stranger, 0), []);
});

test("mail the filter kept back, and mail without an authenticated account, teaches nothing", async () => {
  const observer = replyTrackingObserver(t.db, { maxContacts: 100, maxAgeDays: 365, pruneIntervalMs: 0 });
  const out = await classify(message({ from: "carol@example.test" }), "submission", { ip: "192.0.2.50", mailFrom: "carol@example.test", authUser: "carol@example.test" });
  await observer.observe({ event: submitted("carol@example.test", ["spam-target@far.test"]), source: "submission", result: { ...out, action: "quarantine" } });
  await observer.observe({ event: submitted(undefined, ["x@far.test"]), source: "submission", result: out });
  await observer.observe({ event: submitted("nobody@example.test", ["y@far.test"]), source: "submission", result: out });
  // inbound mail is never a conversation the account started
  await observer.observe({ event: submitted("carol@example.test", ["z@far.test"]), source: "inbound", result: out });
  assert.deepEqual(await contacts(carol), []);
  const count = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM spam_reply_contacts WHERE address IN ('x@far.test', 'y@far.test')");
  assert.equal(count.rows[0]!.n, 0);
});

test("bounded: at most maxContacts per account (the most recent), none older than maxAgeDays", async () => {
  const observer = replyTrackingObserver(t.db, { maxContacts: 3, maxAgeDays: 30, pruneIntervalMs: 0 });
  const out = await classify(message({ from: "carol@example.test" }), "submission", { ip: "192.0.2.50", mailFrom: "carol@example.test", authUser: "carol@example.test" });
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  // one written to 40 days ago (expired), then five in order
  await observer.observe({ event: submitted("carol@example.test", ["old@far.test"], new Date(now - 40 * day)), source: "submission", result: out });
  for (let i = 1; i <= 5; i++) {
    await observer.observe({ event: submitted("carol@example.test", [`r${i}@far.test`], new Date(now - (10 - i) * day)), source: "submission", result: out });
  }
  assert.deepEqual(await contacts(carol), ["r3@far.test", "r4@far.test", "r5@far.test"]);
  // writing again to an address refreshes it
  await observer.observe({ event: submitted("carol@example.test", ["r3@far.test"], new Date(now)), source: "submission", result: out });
  await observer.observe({ event: submitted("carol@example.test", ["r6@far.test"], new Date(now - day)), source: "submission", result: out });
  assert.deepEqual(await contacts(carol), ["r3@far.test", "r5@far.test", "r6@far.test"]);

  // an expired contact that is still stored (maxContacts not reached) neither matches nor survives pruning
  await t.db.query("INSERT INTO spam_reply_contacts (account_id, address, last_sent_at) VALUES ($1, 'alice@sender.test', now() - interval '400 days') ON CONFLICT (account_id, address) DO UPDATE SET last_sent_at = EXCLUDED.last_sent_at", [carol]);
  const reply = await classify(await signed(message()), "inbound", { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
  assert.deepEqual(replySymbols(reply, 1), []);
  const bobObserver = replyTrackingObserver(t.db, { maxContacts: 100, maxAgeDays: 365, pruneIntervalMs: 0 });
  await bobObserver.observe({ event: submitted("bob@example.test", ["team@far.test"]), source: "submission", result: out });
  assert.ok(!(await contacts(carol)).includes("alice@sender.test"), "pruned after maxAgeDays");
  assert.ok((await contacts(bob)).includes("alice@sender.test"));
});
