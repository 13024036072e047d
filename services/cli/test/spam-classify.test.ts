import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BayesStore, bayesTokens, messageKeyOf, parseContent } from "@postline/antispam";
import { addDomain, createAccount } from "@postline/directory";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { json, runCli } from "./run-cli.ts";

// `postline spam classify`: one message on stdin, its verdict as JSON, with the models in the database.

let t: TestDatabase;
let env: Record<string, string>;
let aliceId: number;

const spam = (i: number) =>
  `From: Pharmacy <deals${i}@pills.example>\r\nTo: you@cli.test\r\nSubject: Cheap pills offer ${i}\r\nDate: Tue, 7 May 2024 10:00:00 +0000\r\nMessage-ID: <s${i}@pills.example>\r\n\r\n` +
  `Buy cheap viagra pills now, discount pharmacy offer ${i}, click http://pills.example/buy?id=${i} limited time bonus.\r\n`;
const ham = (i: number) =>
  `From: Carol <carol@work.example>\r\nTo: you@cli.test\r\nSubject: Project meeting ${i}\r\nDate: Tue, 7 May 2024 10:00:00 +0000\r\nMessage-ID: <h${i}@work.example>\r\n\r\n` +
  `Hi, the agenda for the project meeting ${i} is attached; please review the quarterly budget figures before Thursday. Thanks, Carol\r\n`;

async function learn(store: BayesStore, accountId: number | null, raw: string, cls: "spam" | "ham") {
  const bytes = Buffer.from(raw);
  await store.learn(accountId, messageKeyOf(bytes), cls, bayesTokens(await parseContent(bytes, 1 << 20)));
}

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "cli.test");
  aliceId = (await createAccount(t.db, { address: "alice@cli.test", password: "correct horse battery staple" })).id;
  await createAccount(t.db, { address: "bob@cli.test", password: "correct horse battery staple" });
  const store = new BayesStore(t.db);
  for (let i = 0; i < 210; i++) {
    await learn(store, null, spam(i), "spam");
    await learn(store, null, ham(i), "ham");
  }
  env = { POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: t.url };
});
after(() => t.drop());

interface Verdict {
  action: string;
  score: number;
  symbols: Array<{ name: string; score: number; detail?: string }>;
}

test("prints the message's verdict as JSON, with the global model's symbol", async () => {
  const r = await runCli(["spam", "classify"], env, spam(1000).replace(/Date: .*\r\n/, ""));
  const v = json<Verdict>(r);
  assert.deepEqual(Object.keys(v).sort(), ["action", "score", "symbols"]);
  const names = v.symbols.map((s) => s.name);
  assert.ok(names.includes("MISSING_DATE"), names.join(","));
  assert.ok(names.includes("BAYES_SPAM"), names.join(","));
  assert.equal(v.score, Math.round(v.symbols.reduce((sum, s) => sum + s.score, 0) * 100) / 100);
  assert.equal(v.action, v.score >= 5 ? (v.score >= 10 ? (v.score >= 15 ? "reject" : "quarantine") : "junk") : "deliver");
  assert.match(v.symbols.find((s) => s.name === "BAYES_SPAM")!.detail ?? "", /^p=(0\.9\d*|1\.0+)$/);

  const clean = json<Verdict>(await runCli(["spam", "classify"], env, ham(1000)));
  assert.ok(clean.symbols.some((s) => s.name === "BAYES_HAM"), JSON.stringify(clean));
  assert.equal(clean.action, "deliver");
});

test("--account: that account's verdict, with its own model", async () => {
  // Alice keeps the pharmacy's mail: it is ham to her.
  const store = new BayesStore(t.db);
  for (let i = 0; i < 5; i++) await learn(store, aliceId, spam(2000 + i), "ham");
  const message = spam(3000);
  const global = json<Verdict>(await runCli(["spam", "classify"], env, message));
  const alice = json<Verdict>(await runCli(["spam", "classify", "--account", "alice@cli.test"], env, message));
  const bob = json<Verdict>(await runCli(["spam", "classify", "--account", "bob@cli.test"], env, message));
  assert.ok(alice.symbols.some((s) => s.name === "BAYES_USER_HAM"), JSON.stringify(alice));
  assert.ok(alice.score < global.score, `${alice.score} < ${global.score}`);
  assert.deepEqual(bob, global);
});

test("errors: an unknown account, no message", async () => {
  const unknown = await runCli(["spam", "classify", "--account", "nobody@cli.test"], env, ham(1));
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no account nobody@cli\.test/);
  const empty = await runCli(["spam", "classify"], env, "");
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /no message on standard input/);
});
