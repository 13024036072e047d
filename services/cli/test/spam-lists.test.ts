import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { buildAdminApi } from "@postline/admin-api";
import { addDomain, createAccount, type SpamListEntry, type SpamVerdict } from "@postline/directory";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { json, runCli } from "./run-cli.ts";

// `postline spam allow|block|lists|unlist|verdict` on the database (cluster mode) and through the
// admin API.
const TOKEN = "cli-spam-token-0123456789";
let t: TestDatabase;
let app: ReturnType<typeof buildAdminApi>;
let dbEnv: Record<string, string>;
let apiEnv: Record<string, string>;
const mailId = "01KB2Q6V3M8Z5T0000000000AB";
const unknownMailId = "01KB2Q6V3M8Z5T0000000000CD";

before(async () => {
  t = await createTestDatabase();
  dbEnv = { POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: t.url };
  app = buildAdminApi({ db: t.db, token: TOKEN });
  apiEnv = { POSTLINE_ADMIN_URL: await app.listen({ host: "127.0.0.1", port: 0 }), POSTLINE_ADMIN_TOKEN: TOKEN };
  await addDomain(t.db, "example.test");
  const bob = await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" });
  await t.db.query(
    `INSERT INTO spam_verdicts (mail_id, source, action, score, symbols, accounts, auth_results, mail_from, recipients, client_ip)
     VALUES ($1, 'inbound', 'junk', 5.5, $2::jsonb, $3::jsonb, 'mx.example.test; spf=fail smtp.mailfrom=x.test', 'a@x.test', $4, '192.0.2.1')`,
    [
      mailId,
      JSON.stringify([{ name: "SPF_FAIL", score: 2.5, detail: "x.test" }, { name: "RDNS_NONE", score: 3 }]),
      JSON.stringify([{ accountId: bob.id, action: "deliver", score: -14.5, symbols: [{ name: "USER_ALLOWLIST", score: -20, detail: "192.0.2.1 (client 192.0.2.1)" }] }]),
      ["bob@example.test"],
    ],
  );
});
after(async () => {
  await app?.close();
  await t?.drop();
});

test("allow, block, lists and unlist on the database", async () => {
  const allow = await runCli(["spam", "allow", "Alice@Sender.test", "--account", "bob@example.test", "--comment", "colleague"], dbEnv);
  assert.equal(allow.code, 0, allow.stderr);
  assert.match(allow.stdout, /^added alice@sender\.test \(address\) to the allow list of bob@example\.test \(id \d+\)\n$/);
  const block = json<SpamListEntry>(await runCli(["--json", "spam", "block", "203.0.113.5/24", "--domain", "example.test"], dbEnv));
  assert.equal(block.value, "203.0.113.0/24");
  assert.equal(block.domain, "example.test");

  const listed = await runCli(["spam", "lists"], dbEnv);
  assert.equal(listed.code, 0, listed.stderr);
  const lines = listed.stdout.trimEnd().split("\n");
  assert.match(lines[0]!, /^ID\s+LIST\s+KIND\s+TYPE\s+VALUE\s+COMMENT$/);
  assert.equal(lines.length, 3);
  assert.ok(lines.some((l) => /bob@example\.test\s+allow\s+address\s+alice@sender\.test\s+colleague$/.test(l)), listed.stdout);
  assert.ok(lines.some((l) => /domain example\.test\s+block\s+ip\s+203\.0\.113\.0\/24$/.test(l)), listed.stdout);

  const bobs = json<SpamListEntry[]>(await runCli(["--json", "spam", "lists", "--account", "bob@example.test"], dbEnv));
  assert.deepEqual(bobs.map((e) => e.value), ["alice@sender.test"]);

  const unlist = await runCli(["spam", "unlist", String(block.id)], dbEnv);
  assert.equal(unlist.stdout, "removed 203.0.113.0/24 from the block list of domain example.test\n");
  assert.deepEqual(json<SpamListEntry[]>(await runCli(["--json", "spam", "lists", "--domain", "example.test"], dbEnv)), []);
});

test("errors are one line with exit code 1", async () => {
  const noScope = await runCli(["spam", "block", "x.test"], dbEnv);
  assert.equal(noScope.code, 1);
  assert.match(noScope.stderr, /^postline: give the list: --account/);
  const bad = await runCli(["spam", "block", "10.0.0.0/4", "--account", "bob@example.test"], dbEnv);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^postline: "10\.0\.0\.0\/4" is too broad/);
  const unknown = await runCli(["spam", "unlist", "999999"], apiEnv);
  assert.equal(unknown.stderr, "postline: list entry 999999 does not exist\n");
});

test("through the admin API, and the verdict of a message as a table or JSON", async () => {
  const block = json<SpamListEntry>(await runCli(["--json", "spam", "block", "*.spam.test", "--account", "bob@example.test"], apiEnv));
  assert.equal(block.account, "bob@example.test");
  assert.ok(json<SpamListEntry[]>(await runCli(["--json", "spam", "lists", "--account", "bob@example.test"], apiEnv)).some((e) => e.value === "*.spam.test"));

  for (const env of [apiEnv, dbEnv]) {
    const text = await runCli(["spam", "verdict", mailId], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /verdict:\s+junk \(score 5\.50\)/);
    assert.match(text.stdout, /auth results: mx\.example\.test; spf=fail/);
    // highest score first, with the details
    assert.match(text.stdout, /RDNS_NONE\s+3\.00\s*\n\s+SPF_FAIL\s+2\.50\s+x\.test/);
    assert.match(text.stdout, /account bob@example\.test: deliver \(score -14\.50\)\n\s+SYMBOL\s+SCORE\s+DETAIL\n\s+USER_ALLOWLIST\s+-20\.00\s+192\.0\.2\.1 \(client 192\.0\.2\.1\)/);
    const v = json<SpamVerdict>(await runCli(["--json", "spam", "verdict", mailId], env));
    assert.equal(v.score, 5.5);
    assert.equal(v.accounts[0]!.address, "bob@example.test");
    const missing = await runCli(["spam", "verdict", unknownMailId], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^postline: no recorded verdict for /);
  }
});
