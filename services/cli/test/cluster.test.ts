import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { verifyPassword } from "@postline/directory";
import { loadMigrations } from "@postline/db";
import { json, runCli } from "./run-cli.ts";

// Cluster mode against a real PostgreSQL database. The CLI needs only POSTLINE_DATABASE_URL:
// it does not ask for the Kafka and S3 settings the services need.
let t: TestDatabase;
let env: Record<string, string>;
before(async () => {
  t = await createTestDatabase({ migrated: false });
  env = { POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: t.url };
});
after(async () => {
  await t.drop();
});

test("migrate applies the schema once", async () => {
  const first = json<{ applied: string[] }>(await runCli(["--json", "migrate"], env));
  assert.deepEqual(
    first.applied,
    loadMigrations().map((m) => m.version),
  );
  assert.equal(first.applied[0], "0001_init");
  const again = await runCli(["migrate"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "database schema is up to date\n");
});

test("domains, users, quotas, passwords, aliases", async () => {
  assert.equal((await runCli(["domain", "add", "bücher.example", "--catch-all", "info@bücher.example"], env)).stdout, "added domain xn--bcher-kva.example (bücher.example)\n");
  const domains = json<Array<{ name: string; catchAll: string }>>(await runCli(["--json", "domain", "list"], env));
  assert.deepEqual(
    domains.map((d) => [d.name, d.catchAll]),
    [["xn--bcher-kva.example", "info@xn--bcher-kva.example"]],
  );

  const add = await runCli(["user", "add", "info@bücher.example", "--password", "first password 1", "--quota", "500M"], env);
  assert.equal(add.stdout, "created info@xn--bcher-kva.example (quota 500 MiB)\n");
  assert.equal((await runCli(["user", "quota", "info@xn--bcher-kva.example", "2.5G"], env)).stdout, "quota of info@xn--bcher-kva.example is 2.5 GiB\n");
  assert.equal((await runCli(["user", "passwd", "info@xn--bcher-kva.example", "--password-stdin"], env, "second password 2\n")).code, 0);
  assert.ok(await verifyPassword(t.db, "info@xn--bcher-kva.example", "second password 2"));
  assert.equal(await verifyPassword(t.db, "info@xn--bcher-kva.example", "first password 1"), null);

  const disabled = json<{ disabled: boolean }>(await runCli(["--json", "user", "disable", "info@xn--bcher-kva.example"], env));
  assert.equal(disabled.disabled, true);
  const shown = json<{ disabled: boolean; quotaBytes: number }>(await runCli(["--json", "user", "show", "INFO@bücher.example"], env));
  assert.deepEqual([shown.disabled, shown.quotaBytes], [true, 2.5 * 2 ** 30]);

  assert.equal((await runCli(["alias", "add", "sales@bücher.example", "info@bücher.example"], env)).code, 0);
  assert.equal((await runCli(["alias", "add", "sales@bücher.example", "boss@remote.test"], env)).code, 0);
  const aliases = await runCli(["alias", "list", "--domain", "bücher.example"], env);
  assert.match(aliases.stdout, /^SOURCE\s+DESTINATION\nsales@xn--bcher-kva\.example\s+boss@remote\.test\nsales@xn--bcher-kva\.example\s+info@xn--bcher-kva\.example\n$/);
  assert.equal((await runCli(["alias", "remove", "sales@bücher.example", "boss@remote.test"], env)).code, 0);
});

test("errors: exit code 1 and one line on stderr", async () => {
  const cases: Array<[string[], RegExp, string?]> = [
    [["domain", "add", "xn--bcher-kva.example"], /already exists/],
    [["user", "add", "x@nowhere.test", "--password", "another password"], /domain nowhere\.test does not exist/],
    [["user", "add", "y@bücher.example", "--password", "short"], /at least 8 characters/],
    [["user", "quota", "info@bücher.example", "lots"], /"lots" is not a size/],
    [["user", "remove", "ghost@bücher.example"], /account ghost@xn--bcher-kva\.example does not exist/],
    [["domain", "remove", "bücher.example"], /still has 1 account\(s\) and 1 alias\(es\)/],
    [["user", "passwd", "info@bücher.example"], /no password given/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args, env);
    assert.equal(r.code, 1, args.join(" "));
    assert.equal(r.stdout, "", args.join(" "));
    const lines = r.stderr.split("\n").filter(Boolean);
    assert.equal(lines.length, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(lines[0]!, /^postline: /);
    assert.match(lines[0]!, message, args.join(" "));
  }
  const noUrl = await runCli(["user", "list"], { POSTLINE_MODE: "cluster" });
  assert.equal(noUrl.code, 1);
  assert.match(noUrl.stderr, /^postline: configuration error: POSTLINE_DATABASE_URL: is required when POSTLINE_MODE=cluster/);
});

test("removing: a user, then the domain with --force", async () => {
  assert.equal((await runCli(["user", "remove", "info@bücher.example"], env)).stdout, "removed info@bücher.example\n");
  assert.equal((await runCli(["domain", "remove", "bücher.example", "--force"], env)).code, 0);
  assert.equal((await runCli(["domain", "list"], env)).stdout, "no domains\n");
});
