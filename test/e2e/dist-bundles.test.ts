import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { verifyPassword } from "@postline/directory";
import { clusterEnv, createTestDatabase, runProcess, smtpTransaction, startDnsServer, startServiceProcess, type ServiceProcess } from "@postline/testkit";

// The production form of the services: the bundles of `pnpm build:dist` (dist/bin/<name>.mjs, run
// by plain node as the image runs them; scripts/test.sh builds them before the tests). The rest of
// the suite runs the sources through tsx; this file checks that the bundles are the same platform:
// mail flows through the inbound bundles, every service bundle starts and is ready, and the CLI
// bundle migrates and hashes passwords with the native argon2 it loads from node_modules.
const REPO = fileURLToPath(new URL("../../", import.meta.url));

const database = await createTestDatabase({ migrated: false });
const dns = await startDnsServer({ hosts: { "sender.dist.test": "127.0.0.1" } });
const env = clusterEnv(database.url, { POSTLINE_MX_PORT: "0", POSTLINE_DNS_SERVERS: dns.address, POSTLINE_SUBMISSION_PORT: "0", POSTLINE_SUBMISSIONS_PORT: "0", POSTLINE_IMAP_PORT: "0", POSTLINE_IMAPS_PORT: "0", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0", POSTLINE_ADMIN_PORT: "0", POSTLINE_ADMIN_TOKEN: "dist-bundles-token" });
const services: ServiceProcess[] = [];

function cli(args: string[], input = "") {
  return runProcess(process.execPath, ["dist/bin/cli.mjs", ...args], { cwd: REPO, env, input });
}

before(async () => {
  // The CLI bundle applies the schema from dist/migrations/ to an empty database.
  const migrated = await cli(["migrate"]);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.match(migrated.stdout, /applied/);
  for (const [args, input] of [
    [["domain", "add", "dist.test"], ""],
    [["user", "add", "alice@dist.test", "--password-stdin"], "correct horse battery staple\n"],
  ] as const) {
    const r = await cli([...args], input);
    assert.equal(r.code, 0, r.stderr);
  }
});

after(async () => {
  for (const s of services.reverse()) await s.stop();
  await dns.stop();
  await database.drop();
});

test("the CLI bundle hashed the password with argon2id: the sources verify it", async () => {
  const account = await verifyPassword(database.db, "alice@dist.test", "correct horse battery staple");
  assert.equal(account?.address, "alice@dist.test");
  assert.equal(await verifyPassword(database.db, "alice@dist.test", "wrong password"), null);
  const hash = await database.db.query<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE address = $1", ["alice@dist.test"]);
  assert.match(hash.rows[0]!.password_hash, /^\$argon2id\$/);
});

test("mail flows through the inbound-mx, spam-filter and delivery bundles into INBOX", async () => {
  for (const name of ["delivery", "spam-filter", "inbound-mx"]) services.push(await startServiceProcess(name, env, 60_000, "dist"));
  const mx = services.find((s) => s.name === "inbound-mx")!;
  const port = Number(new URL(mx.listening["inbound-mx"]!.smtp!.replace(/^smtp:/, "http:")).port);
  const sent = await smtpTransaction(port, {
    from: "bob@sender.dist.test",
    to: ["alice@dist.test"],
    data: `From: <bob@sender.dist.test>\r\nTo: <alice@dist.test>\r\nSubject: bundled\r\nMessage-ID: <bundled@sender.dist.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\nHello from the bundles.\r\n`,
  });
  assert.ok(sent.queueId, `not accepted: ${sent.final.code} ${sent.final.text}`);
  let row: { name: string; subject: string } | undefined;
  for (let i = 0; i < 240 && !row; i++) {
    const r = await database.db.query<{ name: string; subject: string }>(
      "SELECT mb.name, m.subject FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE m.mail_id = $1",
      [sent.queueId],
    );
    row = r.rows[0];
    if (!row) await new Promise((r) => setTimeout(r, 250));
  }
  assert.deepEqual(row, { name: "INBOX", subject: "bundled" });
});

test("the submission, imap-pop3 and admin-api bundles start and are ready", async () => {
  for (const name of ["submission", "imap-pop3", "admin-api"]) {
    const service = await startServiceProcess(name, env, 60_000, "dist");
    services.push(service);
    const ready = await fetch(`${service.ops}/readyz`);
    assert.equal(ready.status, 200, `${name} /readyz`);
  }
  const admin = services.find((s) => s.name === "admin-api")!;
  const url = Object.values(admin.listening["admin-api"] ?? {})[0]!;
  const domains = await fetch(new URL("/v1/domains", url), { headers: { authorization: "Bearer dist-bundles-token" } });
  assert.equal(domains.status, 200);
  assert.match(await domains.text(), /dist\.test/);
});
