import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createServer } from "node:net";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { buildAdminApi } from "@postline/admin-api";
import { verifyPassword } from "@postline/directory";
import { json, runCli } from "./run-cli.ts";

// With POSTLINE_ADMIN_URL the CLI never touches the database: here the data directory is locked
// by a "running platform" (this test process), and every command still works over HTTP.
const TOKEN = "cli-test-token-0123456789";
let t: TestDatabase;
let app: ReturnType<typeof buildAdminApi>;
let env: Record<string, string>;
const dataDir = mkdtempSync(join(tmpdir(), "postline-cli-api-"));

before(async () => {
  t = await createTestDatabase();
  app = buildAdminApi({ db: t.db, token: TOKEN });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  writeFileSync(join(dataDir, "db.lock"), JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: new Date().toISOString(), adminUrl: url }));
  env = { POSTLINE_ADMIN_URL: url, POSTLINE_ADMIN_TOKEN: TOKEN, POSTLINE_DATA_DIR: dataDir };
});
after(async () => {
  await app.close();
  await t.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("the management commands work over HTTP", async () => {
  assert.equal((await runCli(["domain", "add", "example.org"], env)).stdout, "added domain example.org\n");
  const created = json<{ address: string; password: string }>(await runCli(["--json", "user", "add", "carol@example.org"], env));
  assert.equal(created.address, "carol@example.org");
  assert.ok(await verifyPassword(t.db, "carol@example.org", created.password));

  const changed = await runCli(["user", "passwd", "carol@example.org", "--generate"], env);
  assert.equal(changed.code, 0, changed.stderr);
  const newPassword = /^password: (\S+)$/m.exec(changed.stdout)?.[1];
  assert.ok(newPassword);
  assert.ok(await verifyPassword(t.db, "carol@example.org", newPassword));

  assert.equal((await runCli(["user", "quota", "carol@example.org", "unlimited"], env)).stdout, "quota of carol@example.org is unlimited\n");
  assert.equal((await runCli(["alias", "add", "hello@example.org", "carol@example.org"], env)).code, 0);
  const aliases = json<Array<{ source: string; destination: string }>>(await runCli(["--json", "alias", "list"], env));
  assert.deepEqual(aliases.map((a) => `${a.source}>${a.destination}`), ["hello@example.org>carol@example.org"]);
  const users = json<Array<{ address: string }>>(await runCli(["--json", "user", "list", "--domain", "example.org"], env));
  assert.deepEqual(users.map((u) => u.address), ["carol@example.org"]);
});

test("API errors become one line and exit code 1", async () => {
  const dup = await runCli(["domain", "add", "example.org"], env);
  assert.equal(dup.code, 1);
  assert.equal(dup.stderr, "postline: domain example.org already exists\n");

  const badToken = await runCli(["domain", "list"], { ...env, POSTLINE_ADMIN_TOKEN: "wrong-token-wrong-token" });
  assert.equal(badToken.code, 1);
  assert.equal(badToken.stderr, "postline: invalid bearer token\n");

  const noToken = await runCli(["domain", "list"], { POSTLINE_ADMIN_URL: env.POSTLINE_ADMIN_URL! });
  assert.equal(noToken.code, 1);
  assert.match(noToken.stderr, /POSTLINE_ADMIN_TOKEN: is required when POSTLINE_ADMIN_URL is set/);

  const closedPort = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
  const down = await runCli(["domain", "list"], { ...env, POSTLINE_ADMIN_URL: `http://127.0.0.1:${closedPort}` });
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `postline: cannot reach the admin API at http://127.0.0.1:${closedPort}: ECONNREFUSED\n`);
});
