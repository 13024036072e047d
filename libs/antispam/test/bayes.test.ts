import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  BayesStore,
  accountBayesPolicy,
  bayesRule,
  bayesTokens,
  createClassifier,
  defaultRules,
  messageKeyOf,
  messageOnlyInput,
  parseContent,
  type Classifier,
  type DnsResolve,
} from "@postline/antispam";
import type { Db } from "@postline/db";
import { createPgliteDatabase, createTestDatabase, testInfra, type TestDatabase } from "@postline/testkit";
import {
  chi2Q,
  combine,
  defaultCombineOptions,
  defaultLogisticCurve,
  LOGISTIC_MAX_SCORE,
  logisticCurveAt,
  defaultLogisticOptions,
  defaultScoreCurve,
  averageDecay,
  averagedWeight,
  initialLogisticState,
  logisticProbability,
  logisticStep,
  scoreFor,
  stripHtml,
  tokenHash,
  tokenize,
  defaultTokenizeOptions,
  defaultExpiryOptions,
  trainingOrder,
  type TokenWeight,
} from "../src/bayes/index.ts";
import { corpus, createAccount } from "./bayes-corpus.ts";

const MAX = 4 * 1024 * 1024;
const parse = (raw: Buffer | string) => parseContent(Buffer.from(raw), MAX);
const silentResolver = (async () => {
  throw Object.assign(new Error("no DNS here"), { code: "ENOTFOUND" });
}) as unknown as DnsResolve;

const MESSAGE = [
  "Received: from mx.sender.test (mx.sender.test [192.0.2.1]) by mx.ours.test",
  "Return-Path: <bounce@sender.test>",
  "Authentication-Results: mx.ours.test; spf=pass",
  "X-Postline-Spam: no, score=0.0",
  "To: alice@ours.test",
  "From: Cheap Pills <offers@pharma.example.com>",
  "Subject: Cheap pills today",
  "Message-ID: <abc@mailer.example.com>",
  "X-Mailer: BulkBlaster 3",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/html; charset=utf-8",
  "",
  '<html><head><style>p{color:red}</style></head><body><p>Buy&nbsp;now at <a href="http://shop.pills.example.org/x?y=1">our shop</a></p><!-- hidden --><script>var a=1</script></body></html>',
  "--b1",
  "Content-Type: application/zip",
  'Content-Disposition: attachment; filename="invoice.ZIP"',
  "Content-Transfer-Encoding: base64",
  "",
  "UEsDBA==",
  "--b1--",
  "",
].join("\r\n");

describe("Bayes tokenizer", () => {
  it("takes words and word pairs of the decoded bodies and the HTML as text, links' hosts and domains, attachments, selected headers", async () => {
    const content = await parse(MESSAGE);
    const tokens = bayesTokens(content);
    for (const t of ["s:cheap", "s:pills", "s2:cheap pills", "b:buy", "b:now", "b2:buy now", "b:shop", "u:shop.pills.example.org", "ud:example.org"]) {
      assert.ok(tokens.includes(t), `${t} in ${tokens.join(" ")}`);
    }
    for (const t of ["a:application/zip", "ae:zip", "fd:example.com", "fn:pills", "hv:x-mailer:bulkblaster", "mid:mailer.example.com", "x:html-only"]) {
      assert.ok(tokens.includes(t), t);
    }
    // structure: MIME parts, charsets, encodings, Message-ID shape, mailer, case-kept subject words, header order
    for (const t of ["mt:multipart/mixed", "mt:text/html", "mc:utf-8", "me:base64", "ms:<a", "xm:bulkblaster 9", "S:Cheap", "ho:from>subject"]) {
      assert.ok(tokens.includes(t), `${t} in ${tokens.join(" ")}`);
    }
    // markup (tag names, attribute names) is off by default: it marks HTML mail as such, not spam
    assert.ok(!tokens.some((t) => t.startsWith("tag:") || t.startsWith("ta:")), "no markup tokens");
    const withMarkup = tokenize(content, { ...defaultTokenizeOptions, markup: true });
    for (const t of ["tag:a", "ta:a.href"]) assert.ok(withMarkup.includes(t), t);
    assert.equal(new Set(tokens).size, tokens.length, "unique");
    assert.equal(bayesTokens(content), tokens, "memoized per content view");
  });

  it("never learns what our pipeline or the transport adds, nor the recipient, nor script/style/comment text", async () => {
    const tokens = bayesTokens(await parse(MESSAGE));
    const bad = tokens.filter((t) => /postline|authentication-results|return-path|received|spf|alice|ours\.test|color|var a|hidden|^h:to$/.test(t));
    assert.deepEqual(bad, []);
  });

  it("relay shape and alignment (off by default): reverse names, HELO, forged relays, domains that agree with From", async () => {
    const forged = await parse([
      "Received: from mx.ours.test (mx.ours.test [192.0.2.9]) by mx.ours.test",
      "Received: from aol.com ([203.0.113.7]) by relay.isp.test with SMTP",
      "Received: from pc7 (host-113-7.dsl.isp.test [198.51.100.7]) by aol.com",
      "Received: from box.internal ([10.0.0.3]) by pc7",
      "From: <mike@aol.com>",
      "Message-ID: <x@yxxpql>",
      "Subject: hi",
      "",
      "see http://cheap.example.net/ and http://other.example.org/",
      "",
    ].join("\r\n"));
    const tokens = tokenize(forged, { ...defaultTokenizeOptions, relayShape: true, alignment: true });
    for (const t of ["rs:first:rdns:none", "rs:first:helo:name", "rs:helo-claims-from", "rs:later:rdns-dynamic", "rs:later:helo:bare", "rs:public-hops:2", "al:mid:none", "al:mid:bare-host", "al:links:no-own", "al:link-domains:2-3", "al:relays:from"]) {
      assert.ok(tokens.includes(t), `${t} in ${tokens.filter((x) => /^(rs|al):/.test(x)).join(" ")}`);
    }
    assert.ok(!tokens.some((t) => t.startsWith("rs:") && t.includes("private")), "private hops are skipped");
    const aligned = tokenize(await parse([
      "Received: from mx.ours.test (mx.ours.test [192.0.2.9]) by mx.ours.test",
      "Received: from out.news.example.com (out.news.example.com [198.51.100.20]) by mx.isp.test",
      "From: News <news@news.example.com>",
      "Reply-To: help@example.com",
      "Message-ID: <1@out.news.example.com>",
      "List-Id: <weekly.example.com>",
      "Subject: weekly",
      "",
      "read https://www.example.com/issue",
      "",
    ].join("\r\n")), { ...defaultTokenizeOptions, relayShape: true, alignment: true });
    for (const t of ["rs:first:rdns:yes", "rs:first:helo-rdns:same", "rs:rdns-is-from", "al:mid:org", "al:links:all-own", "al:relays:from", "al:reply-to:org", "al:list:from"]) {
      assert.ok(aligned.includes(t), `${t} in ${aligned.filter((x) => /^(rs|al):/.test(x)).join(" ")}`);
    }
    assert.ok(!bayesTokens(forged).some((t) => /^(rs|al):/.test(t)), "off by default");
  });

  it("strips HTML: tags to spaces, entities decoded, links collected", () => {
    const r = stripHtml('<p>Fish&amp;chips&#33; &#x263A;</p><img src="http://a.example/i.png"><a href=\'https://b.example\'>x</a>');
    assert.equal(r.text.replace(/\s+/g, " ").trim(), "Fish&chips! ☺ x");
    assert.deepEqual(r.urls, ["http://a.example/i.png", "https://b.example"]);
    assert.deepEqual(r.tags.sort(), ["a", "img", "p"]);
  });

  it("combines with chi-square: spammy tokens → near 1, hammy → near 0, nothing known → 0.5", () => {
    const o = defaultCombineOptions;
    assert.ok(combine(Array(20).fill({ nspam: 50, nham: 0 }), 100, 100, o).probability > 0.99);
    assert.ok(combine(Array(20).fill({ nspam: 0, nham: 50 }), 100, 100, o).probability < 0.01);
    assert.equal(combine(Array(20).fill({ nspam: 0, nham: 0 }), 100, 100, o).probability, 0.5);
    assert.ok(Math.abs(chi2Q(2, 2) - Math.exp(-1)) < 1e-12);
    assert.ok(scoreFor(0.9995, defaultScoreCurve) >= 5, "Bayes alone at ≥ 0.999 reaches junk");
    assert.ok(scoreFor(0.99, defaultScoreCurve) < 5 && scoreFor(0.99, defaultScoreCurve) > 3, "0.99 alone is spammy, not junk");
    assert.ok(scoreFor(0.001, defaultScoreCurve) < -1);
  });

  it("logistic regression: online steps separate the classes; a token both classes share stays near 0", () => {
    const weights = new Map<string, TokenWeight>();
    const state = initialLogisticState();
    const spam = (i: number) => ["viagra", "cheap", `n${i % 7}`, "common"];
    const ham = (i: number) => ["meeting", "agenda", `n${i % 5}`, "common"];
    const set = Array.from({ length: 40 }, (_, i) => [{ spam: true, hashes: spam(i) }, { spam: false, hashes: ham(i) }]).flat();
    const o = { ...defaultLogisticOptions, averageSteps: 20 };
    for (const m of trainingOrder(set)) logisticStep(state, weights, m.hashes, m.spam, o);
    const p = (hashes: string[]) => logisticProbability(state.biasAvg, hashes.map((h) => (weights.has(h) ? averagedWeight(weights.get(h)!, state.steps, o) : 0)));
    assert.ok(p(spam(100)) > 0.9, `spam ${p(spam(100))}`);
    assert.ok(p(ham(100)) < 0.1, `ham ${p(ham(100))}`);
    assert.ok(Math.abs(weights.get("common")!.w) < Math.abs(weights.get("viagra")!.w) / 3, "shared token");
    assert.equal(p(["never-seen"]), logisticProbability(state.biasAvg, [0]), "unknown tokens weigh nothing");
    // the moving average, brought up to date lazily, equals one kept at every step
    const viagra = weights.get("viagra")!;
    const d = averageDecay(o);
    let eager = viagra.avg;
    for (let t = viagra.last + 1; t <= viagra.last + 7; t++) eager = d * eager + (1 - d) * viagra.w;
    assert.ok(Math.abs(averagedWeight(viagra, viagra.last + 7, o) - eager) < 1e-12);
    assert.ok(scoreFor(0.5, defaultLogisticCurve) > 0 && scoreFor(0.3, defaultLogisticCurve) < 0 && scoreFor(0.01, defaultLogisticCurve) <= -2);
    // alone it stops below junk: it takes the chi-square near 1 (+0.5 at a tenth of its curve) or a rule
    assert.equal(scoreFor(1, defaultLogisticCurve), LOGISTIC_MAX_SCORE);
    assert.ok(scoreFor(0.9, defaultLogisticCurve) > 4 && LOGISTIC_MAX_SCORE < 5 && LOGISTIC_MAX_SCORE + 0.1 * scoreFor(0.9995, defaultScoreCurve) >= 5);
    assert.ok(scoreFor(0.97, logisticCurveAt(0.95, 6)) >= 5, "uncut, the line reaches junk at junkAt");
  });

  it("trainingOrder: a seeded shuffle, the same every time, interleaving the classes", () => {
    const items = [...Array.from({ length: 50 }, (_, i) => `s${i}`), ...Array.from({ length: 50 }, (_, i) => `h${i}`)];
    const once = trainingOrder(items);
    assert.deepEqual(once, trainingOrder(items));
    assert.deepEqual([...once].sort(), [...items].sort());
    assert.ok(once.slice(0, 50).filter((x) => x.startsWith("h")).length > 10, "ham in the first half");
    assert.deepEqual(items[0], "s0", "the input is not reordered");
  });
});

async function messageLearning(db: Db): Promise<void> {
  const store = new BayesStore(db);
  const tokens = ["b:one", "b:two", "s:three"];
  const lr = async (accountId: number | null) =>
    (
      await db.query<{ w: number; bias: number; steps: number }>(
        `SELECT coalesce(sum(t.lr_weight), 0)::float8 AS w, m.lr_bias AS bias, m.lr_steps::int AS steps FROM bayes_models m LEFT JOIN bayes_tokens t ON t.model_id = m.id
         WHERE m.account_id IS NOT DISTINCT FROM $1 GROUP BY m.id`,
        [accountId],
      )
    ).rows[0]!;
  assert.equal(await store.learn(null, "k1", "spam", tokens), "learned");
  const spamStep = await lr(null);
  assert.ok(spamStep.w > 0 && spamStep.bias > 0 && spamStep.steps === 1, `a spam step raises the weights: ${JSON.stringify(spamStep)}`);
  assert.equal(await store.learn(null, "k1", "spam", tokens), "already");
  assert.deepEqual(await lr(null), spamStep, "already learned: no second step");
  assert.deepEqual(await store.stats(null), { spam: 1, ham: 0, tokens: 3 });
  assert.equal(await store.learn(null, "k1", "ham", tokens), "relearned");
  assert.ok((await lr(null)).w < spamStep.w, "a correction steps towards its new class");
  assert.deepEqual(await store.stats(null), { spam: 0, ham: 1, tokens: 3 });
  assert.equal(await store.forget(null, "k1"), "ham");
  assert.equal(await store.forget(null, "k1"), null);
  assert.deepEqual(await store.stats(null), { spam: 0, ham: 0, tokens: 0 });

  // concurrent learners of one key: counted once
  const outcomes = await Promise.all(Array.from({ length: 6 }, () => store.learn(null, "k2", "spam", tokens)));
  assert.equal(outcomes.filter((o) => o === "learned").length, 1);
  assert.equal(outcomes.filter((o) => o === "already").length, 5);
  assert.deepEqual(await store.stats(null), { spam: 1, ham: 0, tokens: 3 });
  assert.equal(await store.forget(null, "k2"), "spam");

  // an account's model goes with the account
  const account = await createAccount(db, `learner${Date.now()}@bayes.test`);
  assert.equal(await store.learn(account, "k3", "ham", tokens), "learned");
  assert.deepEqual(await store.stats(account), { spam: 0, ham: 1, tokens: 3 });
  assert.deepEqual(await lr(account), { w: 0, bias: 0, steps: 0 }, "accounts' models are counts only");
  assert.deepEqual(await store.stats(null), { spam: 0, ham: 0, tokens: 0 }, "the global model is untouched");
  await db.query("DELETE FROM accounts WHERE id = $1", [account]);
  const left = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM bayes_models WHERE account_id IS NOT NULL");
  assert.equal(left.rows[0]!.n, 0);
}

async function tokenExpiry(db: Db): Promise<void> {
  const store = new BayesStore(db);
  const account = await createAccount(db, `expiry${Date.now()}@bayes.test`);
  const model = async () =>
    (await db.query<{ id: number; version: number }>("SELECT id, version FROM bayes_models WHERE account_id = $1", [account])).rows[0]!;
  const count = async (token: string) =>
    (await db.query<{ nspam: number; nham: number }>("SELECT nspam, nham FROM bayes_tokens WHERE model_id = $1 AND token = $2", [(await model()).id, tokenHash(token)]))
      .rows[0] ?? null;
  await store.learn(account, "k1", "spam", ["b:old", "b:shared"]);
  await store.learn(account, "k2", "ham", ["b:shared", "b:rare"]);
  const { id } = await model();
  await db.query("UPDATE bayes_tokens SET learned_at = now() - interval '200 days' WHERE model_id = $1", [id]);
  await db.query("UPDATE bayes_learned SET learned_at = now() - interval '400 days' WHERE model_id = $1 AND message_key = 'k1'", [id]);
  await store.learn(account, "k3", "spam", ["b:fresh"]);
  const before = await model();
  const hashes = ["b:old", "b:shared", "b:rare", "b:fresh"].map(tokenHash);
  assert.deepEqual((await store.accountCounts(account, hashes))!.counts.map((c) => c.nspam + c.nham), [1, 2, 1, 1], "cached before expiry");

  assert.deepEqual(await store.expire({ tokenDays: 0, maxCount: 1, recordDays: 0 }), { models: 0, tokens: 0, records: 0 }, "0 days: nothing expires");
  assert.deepEqual(await store.expire(defaultExpiryOptions), { models: 1, tokens: 2, records: 1 });
  // b:old and b:rare (one message each, 200 days) went; b:shared (two messages) and b:fresh (just learned) stay
  assert.equal(await count("b:old"), null);
  assert.equal(await count("b:rare"), null);
  assert.deepEqual(await count("b:shared"), { nspam: 1, nham: 1 });
  assert.deepEqual(await count("b:fresh"), { nspam: 1, nham: 0 });
  assert.ok((await model()).version > before.version, "a new version: cached counts are not used again");
  assert.deepEqual((await store.accountCounts(account, hashes))!.counts.map((c) => c.nspam + c.nham), [0, 2, 0, 1]);
  assert.deepEqual(await store.expire(defaultExpiryOptions), { models: 0, tokens: 0, records: 0 }, "a second run finds nothing");

  // k1's record (400 days) went: learning it again is a new learn; k2's is kept: its correction unlearns what exists
  assert.equal(await store.learn(account, "k1", "ham", ["b:old", "b:shared"]), "learned");
  assert.deepEqual(await count("b:shared"), { nspam: 1, nham: 2 });
  assert.equal(await store.learn(account, "k2", "spam", ["b:shared", "b:rare"]), "relearned");
  assert.deepEqual(await count("b:shared"), { nspam: 2, nham: 1 });
  assert.deepEqual(await count("b:rare"), { nspam: 1, nham: 0 });
  assert.deepEqual(await store.stats(account), { spam: 3, ham: 1, tokens: 4 });
  await db.query("DELETE FROM accounts WHERE id = $1", [account]);
}

/** Swaps a few body words, the subject, Message-ID and Date: the same spam, sent again. */
function nearDuplicate(raw: Buffer): Buffer {
  const text = raw.toString("latin1");
  const split = text.search(/\r?\n\r?\n/);
  let head = text.slice(0, split);
  let body = text.slice(split);
  head = head
    .replace(/^Subject:(.*)$/im, "Subject:$1 again")
    .replace(/^Message-ID:.*$/im, "Message-ID: <near.dup.1@sender.test>")
    .replace(/^Date:.*$/im, "Date: Tue, 01 Oct 2002 10:00:00 +0000");
  let swapped = 0;
  body = body.replace(/\b[a-z]{6,}\b/g, (w) => (swapped < 4 && ++swapped ? "wonderful" : w));
  assert.equal(swapped, 4);
  return Buffer.from(head + body, "latin1");
}

async function accountModels(db: Db): Promise<void> {
  // Two stores: as two spam-filter processes (one learns, the other classifies from its cache)
  const learner = new BayesStore(db);
  const reader = new BayesStore(db, { globalCacheSeconds: 0 });
  const train = [...corpus("spam-1", 250).map((b) => ["spam", b] as const), ...corpus("easy-ham-1", 250).map((b) => ["ham", b] as const)];
  for (const [cls, bytes] of trainingOrder(train)) await learner.learn(null, messageKeyOf(bytes), cls, bayesTokens(await parse(bytes)));
  assert.deepEqual({ ...(await learner.stats(null)), tokens: 0 }, { spam: 250, ham: 250, tokens: 0 });

  const classifier = createClassifier({
    hostname: "mx.test",
    resolver: silentResolver,
    dnsblZones: [],
    rules: [...defaultRules, bayesRule(reader)],
    accountPolicies: [accountBayesPolicy(reader)],
  });
  // The global verdicts: the regression's LOGREG_* and the chi-square's BAYES_* at a tenth of its
  // curve; with the regression off (POSTLINE_SPAM_BAYES_LOGISTIC=false), the chi-square in full.
  const sample = corpus("spam-1", 1, 300)[0]!;
  const statistical = async (options?: Parameters<typeof bayesRule>[1]) =>
    (await createClassifier({ hostname: "mx.test", resolver: silentResolver, dnsblZones: [], rules: [bayesRule(reader, options)] }).classify(messageOnlyInput(sample))).symbols;
  const both = await statistical();
  const logreg = both.find((x) => x.name.startsWith("LOGREG_"));
  const chi = both.find((x) => x.name.startsWith("BAYES_"));
  assert.ok(logreg && chi, JSON.stringify(both));
  const chiOnly = await statistical({ logistic: false });
  assert.deepEqual(chiOnly.map((x) => x.name), [chi.name]);
  assert.ok(Math.abs(chiOnly[0]!.score * 0.1 - chi.score) <= 0.01, JSON.stringify({ chi, chiOnly }));

  const alice = await createAccount(db, `alice${Date.now()}@bayes.test`);
  const bob = await createAccount(db, `bob${Date.now()}@bayes.test`);
  const classify = (c: Classifier, bytes: Buffer) =>
    c.classify(
      messageOnlyInput(bytes, [
        { accountId: alice, recipients: ["alice@bayes.test"] },
        { accountId: bob, recipients: ["bob@bayes.test"] },
      ]),
    );

  // Alice taught one ham: her model exists, and the reader caches its counts at that version
  const someHam = corpus("easy-ham-1", 1, 300)[0]!;
  assert.equal(await learner.learn(alice, messageKeyOf(someHam), "ham", bayesTokens(await parse(someHam))), "learned");

  // A spam the global model did not learn and lets through, with a near-duplicate it lets through
  // too (from TRAIN's files the model left out: the benchmark's TEST files stay out of the tests)
  let original: Buffer | undefined;
  let duplicate: Buffer | undefined;
  for (const candidate of corpus("spam-1", 250, 250)) {
    if (/base64|quoted-printable/i.test(candidate.toString("latin1")) || candidate.length > 20_000) continue;
    const r = await classify(classifier, candidate);
    if (r.action !== "deliver" || r.errors.length) continue;
    let dup: Buffer;
    try {
      dup = nearDuplicate(candidate);
    } catch {
      continue;
    }
    const d = await classify(classifier, dup);
    if (d.action === "deliver" && d.accounts[0]!.action === "deliver") {
      original = candidate;
      duplicate = dup;
      break;
    }
  }
  assert.ok(original && duplicate, "a spam the global model lets through");

  // Alice marks it as spam (in another process): the next classification for her sees it
  const key = messageKeyOf(original);
  assert.equal(await learner.learn(alice, key, "spam", bayesTokens(await parse(original))), "learned");
  const after = await classify(classifier, duplicate);
  const [forAlice, forBob] = after.accounts;
  const userSpam = forAlice!.symbols.find((s) => s.name === "BAYES_USER_SPAM");
  assert.ok(userSpam && userSpam.score > 0, JSON.stringify(forAlice));
  assert.ok(forAlice!.score >= 5 && forAlice!.action !== "deliver", `alice: ${JSON.stringify(forAlice)}`);
  assert.equal(forBob!.action, "deliver", "bob has no model: the global verdict");
  assert.ok(!forBob!.symbols.some((s) => s.name.startsWith("BAYES_USER")));

  // ... without making her other mail spam
  for (const ham of corpus("easy-ham-1", 60, 1000)) {
    const r = await classify(classifier, ham);
    if (r.action === "deliver") assert.equal(r.accounts[0]!.action, "deliver", `ham became junk for alice: ${JSON.stringify(r.accounts[0])}`);
  }

  // She corrects it to ham: the near-duplicate gets no spam push from her model
  assert.equal(await learner.learn(alice, key, "ham", bayesTokens(await parse(original))), "relearned");
  assert.equal(await learner.learn(alice, key, "ham", bayesTokens(await parse(original))), "already");
  const corrected = await classify(classifier, duplicate);
  assert.ok(!corrected.accounts[0]!.symbols.some((s) => s.name === "BAYES_USER_SPAM"), JSON.stringify(corrected.accounts[0]));
  assert.ok(corrected.accounts[0]!.score <= corrected.score);
  assert.equal(corrected.accounts[0]!.action, "deliver");
  assert.deepEqual({ ...(await learner.stats(alice)), tokens: 0 }, { spam: 0, ham: 2, tokens: 0 });
}

describe("Bayes store and account models (PGlite)", () => {
  let db: Db;
  before(async () => {
    db = await createPgliteDatabase();
  });
  after(async () => {
    await db.close();
  });
  it("learns a key once per class, relearns a correction, forgets, is idempotent under concurrent learners", () => messageLearning(db));
  it("an account that marked one spam gets its near-duplicate junked; correcting it removes the push; other mail unaffected", () => accountModels(db));
  it("expiry: rare tokens not learned for half a year and year-old records go; a new version; later learns still add up", () => tokenExpiry(db));
});

describe("Bayes store and account models (PostgreSQL)", () => {
  let t: TestDatabase;
  before(async () => {
    testInfra();
    t = await createTestDatabase();
  });
  after(async () => {
    await t?.drop();
  });
  it("learns a key once per class, relearns a correction, forgets, is idempotent under concurrent learners", () => messageLearning(t.db));
  it("an account that marked one spam gets its near-duplicate junked; correcting it removes the push; other mail unaffected", () => accountModels(t.db));
  it("expiry: rare tokens not learned for half a year and year-old records go; a new version; later learns still add up", () => tokenExpiry(t.db));
});
