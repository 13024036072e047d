import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createPublicKey } from "node:crypto";
import { buildAdminApi } from "@postline/admin-api";
import { addDomain } from "@postline/directory";
import { activeSigningKeys, type DkimKeyView } from "@postline/dkim";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { json, runCli } from "./run-cli.ts";

// `postline dkim` on the database directly (cluster mode) and through the admin API.
const TOKEN = "cli-dkim-token-0123456789";
let t: TestDatabase;
let app: ReturnType<typeof buildAdminApi>;
let direct: Record<string, string>;
let viaApi: Record<string, string>;

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "direct.test");
  await addDomain(t.db, "api.test");
  direct = { POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: t.url };
  app = buildAdminApi({ db: t.db, token: TOKEN });
  viaApi = { POSTLINE_ADMIN_URL: await app.listen({ host: "127.0.0.1", port: 0 }), POSTLINE_ADMIN_TOKEN: TOKEN };
});
after(async () => {
  await app.close();
  await t.drop();
});

for (const [label, domain, envOf] of [
  ["on the database", "direct.test", () => direct],
  ["through the admin API", "api.test", () => viaApi],
] as const) {
  describe(`postline dkim ${label}`, () => {
    test("generate prints the TXT record to publish; --json gives the keys", async () => {
      const env = envOf();
      const r = await runCli(["dkim", "generate", domain], env);
      assert.equal(r.code, 0, r.stderr);
      const date = new Date().toISOString().slice(0, 10).replaceAll("-", "");
      assert.match(r.stdout, new RegExp(`^generated rsa-sha256 key pl${date}-rsa for ${domain.replace(".", "\\.")}\n`));
      assert.match(r.stdout, new RegExp(`name:  pl${date}-rsa\\._domainkey\\.${domain.replace(".", "\\.")}\n`));
      const p = /value: v=DKIM1; k=rsa; p=([A-Za-z0-9+/=]+)\n/.exec(r.stdout)?.[1];
      assert.ok(p, r.stdout);
      assert.equal(createPublicKey({ key: Buffer.from(p, "base64"), format: "der", type: "spki" }).asymmetricKeyDetails?.modulusLength, 2048);
      // The zone-file form splits the value into strings of at most 255 bytes.
      const zone = /^ {2}(\S+\. IN TXT \( .* \))$/m.exec(r.stdout)?.[1];
      assert.ok(zone, r.stdout);
      const strings = [...zone.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
      assert.ok(strings.length >= 2 && strings.every((s) => s.length <= 255));
      assert.equal(strings.join(""), `v=DKIM1; k=rsa; p=${p}`);
      assert.doesNotMatch(r.stdout, /PRIVATE/);

      const both = json<DkimKeyView[]>(await runCli(["--json", "dkim", "generate", domain, "--algorithm", "both", "--selector", "s2"], env));
      assert.deepEqual(both.map((k) => [k.selector, k.algorithm, k.dnsRecord.name]), [
        ["s2-rsa", "rsa-sha256", `s2-rsa._domainkey.${domain}`],
        ["s2-ed", "ed25519-sha256", `s2-ed._domainkey.${domain}`],
      ]);
      assert.match(both[1]!.dnsRecord.value, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
      assert.deepEqual((await activeSigningKeys(t.db, domain)).map((k) => k.selector).sort(), [`pl${date}-rsa`, "s2-ed", "s2-rsa"]);
    });

    test("list, retire, remove", async () => {
      const env = envOf();
      const listed = await runCli(["dkim", "list", domain], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^SELECTOR\s+ALGORITHM\s+STATE\s+CREATED\s+RECORD\n/);
      assert.equal(listed.stdout.trim().split("\n").length, 4);

      const retired = await runCli(["dkim", "retire", domain, "s2-rsa"], env);
      assert.equal(retired.stdout, `retired DKIM key s2-rsa of ${domain}; keep s2-rsa._domainkey.${domain} published until you remove the key\n`);
      const keys = json<DkimKeyView[]>(await runCli(["--json", "dkim", "list", domain], env));
      assert.deepEqual(keys.filter((k) => !k.active).map((k) => k.selector), ["s2-rsa"]);
      assert.match((await runCli(["dkim", "list", domain], env)).stdout, /^s2-rsa\s+rsa-sha256\s+retired\s/m);
      assert.equal((await activeSigningKeys(t.db, domain)).some((k) => k.selector === "s2-rsa"), false);

      assert.equal((await runCli(["dkim", "remove", domain, "s2-rsa"], env)).stdout, `removed DKIM key s2-rsa of ${domain}\n`);
      assert.deepEqual(json<DkimKeyView[]>(await runCli(["--json", "dkim", "list", domain], env)).map((k) => k.selector).includes("s2-rsa"), false);
    });

    test("errors: one line, exit code 1", async () => {
      const env = envOf();
      const dup = await runCli(["dkim", "generate", domain, "--algorithm", "ed25519", "--selector", "s2-ed"], env);
      assert.equal(dup.code, 1);
      assert.equal(dup.stderr, `postline: DKIM selector s2-ed already exists for ${domain}\n`);
      const unknown = await runCli(["dkim", "list", "nope.test"], env);
      assert.equal(unknown.code, 1);
      assert.equal(unknown.stderr, "postline: domain nope.test does not exist\n");
      const missing = await runCli(["dkim", "remove", domain, "gone"], env);
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, `postline: no DKIM key with selector gone for ${domain}\n`);
      const badAlgo = await runCli(["dkim", "generate", domain, "--algorithm", "dsa"], env);
      assert.equal(badAlgo.code, 1);
      assert.match(badAlgo.stderr, /dsa/);
    });
  });
}
