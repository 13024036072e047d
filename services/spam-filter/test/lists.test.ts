import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { createClassifier, createDnsResolver, type Classifier, type ScoredSymbol } from "@postline/antispam";
import { addDomain, addSpamListEntry, createAccount, DirectoryError, listSpamListEntries, parseSpamListValue, removeSpamListEntry } from "@postline/directory";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { domainCandidates, listsPolicy } from "../src/policy/index.ts";
import { message, signed, zones } from "./world.ts";

// Allow and block lists on the real PostgreSQL, with real SPF/DKIM/DMARC against the loopback DNS
// server of world.ts: sender.test authorises 127.0.0.10 (SPF -all), signs with DKIM, DMARC p=reject.

let t: TestDatabase;
let dns: DnsServer;
let classifier: Classifier;
let bob: number;
let carol: number;

before(async () => {
  t = await createTestDatabase();
  dns = await startDnsServer(zones);
  classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), accountPolicies: [listsPolicy(t.db)] });
  await addDomain(t.db, "example.test");
  await addDomain(t.db, "other.test");
  bob = (await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" })).id;
  carol = (await createAccount(t.db, { address: "carol@example.test", password: "correct horse battery" })).id;
  await createAccount(t.db, { address: "dave@other.test", password: "correct horse battery" });
});
after(async () => {
  await dns?.stop();
  await t?.drop();
});

/** The account verdicts' symbols of bob and carol for a message. */
async function classify(raw: Buffer, client: { ip: string; mailFrom: string }) {
  const r = await classifier.classify({
    open: async () => Readable.from([raw]),
    size: raw.length,
    source: "inbound",
    client: { ip: client.ip, helo: "mail.sender.test" },
    mailFrom: client.mailFrom,
    accounts: [
      { accountId: bob, recipients: ["bob@example.test"] },
      { accountId: carol, recipients: ["carol@example.test"] },
    ],
  });
  assert.deepEqual(r.errors, []);
  const [b, c] = r.accounts;
  return { bob: b!, carol: c!, message: r };
}
const names = (symbols: ScoredSymbol[]) => symbols.map((s) => s.name).filter((n) => /LIST|ALLOWLIST/.test(n));
const detailOf = (symbols: ScoredSymbol[], name: string) => symbols.find((s) => s.name === name)?.detail;

async function clearLists() {
  await t.db.query("DELETE FROM spam_list_entries");
}

describe("list values", () => {
  test("normalised by type, with CIDR reduced to its network", () => {
    assert.deepEqual(parseSpamListValue(" Alice@Sender.TEST "), { type: "address", value: "alice@sender.test", network: null });
    assert.deepEqual(parseSpamListValue("Sender.test."), { type: "domain", value: "sender.test", network: null });
    assert.deepEqual(parseSpamListValue("*.Sender.test"), { type: "domain", value: "*.sender.test", network: null });
    assert.deepEqual(parseSpamListValue("*@sender.test"), { type: "domain", value: "sender.test", network: null });
    assert.deepEqual(parseSpamListValue("*.bücher.example"), { type: "domain", value: "*.xn--bcher-kva.example", network: null });
    assert.deepEqual(parseSpamListValue("192.0.2.77"), { type: "ip", value: "192.0.2.77", network: "192.0.2.77/32" });
    assert.deepEqual(parseSpamListValue("192.0.2.77/24"), { type: "ip", value: "192.0.2.0/24", network: "192.0.2.0/24" });
    assert.deepEqual(parseSpamListValue("2001:DB8:0:0:1::7/48"), { type: "ip", value: "2001:db8::/48", network: "2001:db8::/48" });
    assert.deepEqual(parseSpamListValue("::ffff:198.51.100.9"), { type: "ip", value: "198.51.100.9", network: "198.51.100.9/32" });
  });

  test("invalid values are refused with the reason", () => {
    for (const [value, reason] of [
      ["", /empty/],
      ["10.0.0.0/7", /too broad/],
      ["2001:db8::/12", /too broad/],
      ["192.0.2.1/33", /prefix/],
      ["192.0.2.1/x", /prefix/],
      ["999.1.1.1", /not a valid IP/],
      ["foo*.example.com", /wildcard/],
      ["user@", /not an email address/],
      ["exa mple.com", /not a valid domain/],
    ] as const) {
      assert.throws(() => parseSpamListValue(value), (err: unknown) => err instanceof DirectoryError && err.code === "invalid" && reason.test(err.message), value);
    }
  });

  test("entries belong to an existing account or domain, once", async () => {
    const e = await addSpamListEntry(t.db, { account: "Bob@Example.test", kind: "allow", value: "alice@sender.test", comment: " colleague " });
    assert.equal(e.account, "bob@example.test");
    assert.equal(e.domain, null);
    assert.equal(e.comment, "colleague");
    await assert.rejects(addSpamListEntry(t.db, { account: "bob@example.test", kind: "allow", value: "ALICE@sender.test" }), { code: "already_exists" });
    // the same value on the other kind or another list is a different entry
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "alice@sender.test" });
    await addSpamListEntry(t.db, { domain: "example.test", kind: "allow", value: "alice@sender.test" });
    await assert.rejects(addSpamListEntry(t.db, { account: "nobody@example.test", kind: "allow", value: "x.test" }), { code: "not_found" });
    await assert.rejects(addSpamListEntry(t.db, { domain: "unknown.test", kind: "allow", value: "x.test" }), { code: "domain_not_found" });
    await assert.rejects(addSpamListEntry(t.db, { account: "bob@example.test", domain: "example.test", kind: "allow", value: "x.test" }), { code: "invalid" });
    await assert.rejects(addSpamListEntry(t.db, { kind: "allow", value: "x.test" }), { code: "invalid" });

    assert.equal((await listSpamListEntries(t.db, { account: "bob@example.test" })).length, 2);
    assert.equal((await listSpamListEntries(t.db, { account: "carol@example.test" })).length, 0);
    assert.equal((await listSpamListEntries(t.db, { domain: "example.test" })).length, 1);
    assert.equal((await listSpamListEntries(t.db)).length, 3);
    const removed = await removeSpamListEntry(t.db, e.id);
    assert.equal(removed.value, "alice@sender.test");
    await assert.rejects(removeSpamListEntry(t.db, e.id), { code: "not_found" });
    await clearLists();
  });

  test("domain candidates: the domain and the wildcard of it and each parent", () => {
    assert.deepEqual(domainCandidates("a.b.example"), ["a.b.example", "*.a.b.example", "*.b.example", "*.example"]);
  });
});

describe("matching", () => {
  test("an allowed address matches only when authenticated: a forged From walks nowhere", async () => {
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "allow", value: "alice@sender.test" });

    // signed by sender.test, sent from its SPF address: envelope and From authenticated
    const good = await classify(await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(good.bob.symbols), ["USER_ALLOWLIST"]);
    assert.equal(good.bob.symbols.find((s) => s.name === "USER_ALLOWLIST")!.score, -20);
    assert.equal(good.bob.action, "deliver");
    assert.deepEqual(names(good.carol.symbols), [], "carol's verdict does not see bob's list");
    assert.ok(!good.message.symbols.some((s) => s.name === "USER_ALLOWLIST"), "an account's list is not in the message's verdict");

    // the same From, unsigned, from an address SPF does not allow, with an envelope of its own
    const forged = await classify(message(), { ip: "127.0.0.99", mailFrom: "x@elsewhere.test" });
    assert.deepEqual(names(forged.bob.symbols), ["ALLOWLIST_UNAUTHENTICATED"]);
    assert.equal(forged.bob.symbols.find((s) => s.name === "ALLOWLIST_UNAUTHENTICATED")!.score, 0);
    assert.match(detailOf(forged.bob.symbols, "ALLOWLIST_UNAUTHENTICATED")!, /From alice@sender\.test/);

    // a forged envelope sender (SPF fail) with an unrelated From
    const envelope = await classify(message({ from: "someone@elsewhere.test" }), { ip: "127.0.0.99", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(envelope.bob.symbols), ["ALLOWLIST_UNAUTHENTICATED"]);
    await clearLists();
  });

  test("an allowed domain matches an SPF-authenticated envelope even when the From is not signed", async () => {
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "allow", value: "sender.test" });
    const r = await classify(message({ from: "news@elsewhere.test" }), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(r.bob.symbols), ["USER_ALLOWLIST"]);
    assert.match(detailOf(r.bob.symbols, "USER_ALLOWLIST")!, /sender\.test \(envelope alice@sender\.test\)/);
    await clearLists();
  });

  test("a blocked sender matches the envelope and the From alike, authenticated or not", async () => {
    await addSpamListEntry(t.db, { domain: "example.test", kind: "block", value: "*.spam.test" });
    const byEnvelope = await classify(message({ from: "a@ok.test" }), { ip: "127.0.0.99", mailFrom: "x@mx.spam.test" });
    assert.deepEqual(names(byEnvelope.bob.symbols), ["DOMAIN_BLOCKLIST"]);
    assert.deepEqual(names(byEnvelope.carol.symbols), ["DOMAIN_BLOCKLIST"], "the domain's list applies to every account of the domain");
    assert.equal(byEnvelope.bob.symbols.find((s) => s.name === "DOMAIN_BLOCKLIST")!.score, 20);
    assert.equal(byEnvelope.bob.action, "reject");

    const byFrom = await classify(message({ from: "Promo <deals@spam.test>" }), { ip: "127.0.0.99", mailFrom: "bounce@ok.test" });
    assert.deepEqual(names(byFrom.bob.symbols), ["DOMAIN_BLOCKLIST"], "*.spam.test includes spam.test itself");
    assert.match(detailOf(byFrom.bob.symbols, "DOMAIN_BLOCKLIST")!, /From deals@spam\.test/);

    const unrelated = await classify(message({ from: "a@notspam.test" }), { ip: "127.0.0.99", mailFrom: "x@notspam.test" });
    assert.deepEqual(names(unrelated.bob.symbols), []);
    await clearLists();
  });

  test("an exact domain entry does not match its subdomains", async () => {
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "spam.test" });
    const sub = await classify(message({ from: "a@mx.spam.test" }), { ip: "127.0.0.99", mailFrom: "x@mx.spam.test" });
    assert.deepEqual(names(sub.bob.symbols), []);
    const exact = await classify(message({ from: "a@spam.test" }), { ip: "127.0.0.99", mailFrom: "x@spam.test" });
    assert.deepEqual(names(exact.bob.symbols), ["USER_BLOCKLIST"]);
    await clearLists();
  });

  test("IP and CIDR entries match the client address (IPv4, IPv4-mapped, IPv6), allow entries too", async () => {
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "198.51.100.0/24" });
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "2001:db8:bad::/48" });
    await addSpamListEntry(t.db, { account: "carol@example.test", kind: "allow", value: "198.51.100.7" });
    const raw = message({ from: "a@x.test" });

    const inside = await classify(raw, { ip: "::ffff:198.51.100.200", mailFrom: "a@x.test" });
    assert.deepEqual(names(inside.bob.symbols), ["USER_BLOCKLIST"]);
    assert.match(detailOf(inside.bob.symbols, "USER_BLOCKLIST")!, /198\.51\.100\.0\/24 \(client 198\.51\.100\.200\)/);
    assert.deepEqual(names(inside.carol.symbols), []);

    const carolsIp = await classify(raw, { ip: "198.51.100.7", mailFrom: "a@x.test" });
    assert.deepEqual(names(carolsIp.carol.symbols), ["USER_ALLOWLIST"], "an IP allow entry needs no sender authentication");

    const v6 = await classify(raw, { ip: "2001:db8:bad:1::25", mailFrom: "a@x.test" });
    assert.deepEqual(names(v6.bob.symbols), ["USER_BLOCKLIST"]);
    const v6out = await classify(raw, { ip: "2001:db8:bae::25", mailFrom: "a@x.test" });
    assert.deepEqual(names(v6out.bob.symbols), []);
    const outside = await classify(raw, { ip: "198.51.101.1", mailFrom: "a@x.test" });
    assert.deepEqual(names(outside.bob.symbols), []);
    await clearLists();
  });

  test("precedence: block beats allow within a list; the account's own list overrides the domain's", async () => {
    await addSpamListEntry(t.db, { domain: "example.test", kind: "block", value: "sender.test" });
    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "allow", value: "alice@sender.test" });
    const r = await classify(await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(r.bob.symbols), ["USER_ALLOWLIST"], "bob's own allow entry decides");
    assert.deepEqual(names(r.carol.symbols), ["DOMAIN_BLOCKLIST"]);

    await addSpamListEntry(t.db, { account: "bob@example.test", kind: "block", value: "127.0.0.0/24" });
    const both = await classify(await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(both.bob.symbols), ["USER_BLOCKLIST"], "within one list a block beats an allow");
    await clearLists();
  });

  test("another domain's list never applies", async () => {
    await addSpamListEntry(t.db, { domain: "other.test", kind: "block", value: "sender.test" });
    await addSpamListEntry(t.db, { account: "dave@other.test", kind: "block", value: "127.0.0.10" });
    const r = await classify(await signed(message()), { ip: "127.0.0.10", mailFrom: "alice@sender.test" });
    assert.deepEqual(names(r.bob.symbols), []);
    assert.deepEqual(names(r.carol.symbols), []);
    await clearLists();
  });

  test("a deleted account takes its list along", async () => {
    const eve = await createAccount(t.db, { address: "eve@example.test", password: "correct horse battery" });
    await addSpamListEntry(t.db, { account: "eve@example.test", kind: "block", value: "x.test" });
    await t.db.query("DELETE FROM accounts WHERE id = $1", [eve.id]);
    assert.deepEqual(await listSpamListEntries(t.db), []);
  });
});
