import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance, InjectOptions } from "fastify";
import { dkimVerify } from "mailauth";
import { activeSigningKeys, signMessage, txtStrings, type DkimKeyView } from "@postline/dkim";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { buildAdminApi } from "../src/index.ts";

const TOKEN = "test-token-dkim-0123456789";

let t: TestDatabase;
let app: FastifyInstance;

before(async () => {
  t = await createTestDatabase();
  app = buildAdminApi({ db: t.db, token: TOKEN });
  await app.ready();
  assert.equal((await call("POST", "/v1/domains", { name: "keys.test" })).status, 201);
});
after(async () => {
  await app.close();
  await t.drop();
});

async function call(method: InjectOptions["method"], url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, raw: res.body };
}

describe("DKIM keys over the admin API", () => {
  test("generate both: 201 with the keys and their TXT records, no private key", async () => {
    const r = await call("POST", "/v1/domains/keys.test/dkim", { algorithm: "both", selector: "s1" });
    assert.equal(r.status, 201, r.raw);
    const keys = r.body.keys as DkimKeyView[];
    assert.deepEqual(keys.map((k) => [k.selector, k.algorithm, k.active]), [["s1-rsa", "rsa-sha256", true], ["s1-ed", "ed25519-sha256", true]]);
    assert.equal(keys[0]!.dnsRecord.name, "s1-rsa._domainkey.keys.test");
    assert.equal(keys[0]!.dnsRecord.type, "TXT");
    assert.match(keys[0]!.dnsRecord.value, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+=*$/);
    assert.match(keys[1]!.dnsRecord.value, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    assert.doesNotMatch(r.raw, /PRIVATE|privateKey/);

    // The records the API handed out verify a message signed with the stored keys.
    const records = new Map(keys.map((k) => [k.dnsRecord.name, k.dnsRecord.value]));
    const message = Buffer.from("From: a@keys.test\r\nTo: b@x.test\r\nSubject: hi\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@keys.test>\r\n\r\nbody\r\n");
    const signed = await signMessage(message, await activeSigningKeys(t.db, "keys.test"), { domain: "keys.test" });
    const res = await dkimVerify(signed, {
      resolver: async (name: string) => {
        const v = records.get(name);
        if (!v) throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
        return [txtStrings(v)];
      },
    });
    assert.deepEqual(res.results.map((x) => x.status.result), ["pass", "pass"]);
  });

  test("generate with no body: one RSA key under a dated default selector", async () => {
    const r = await call("POST", "/v1/domains/keys.test/dkim");
    assert.equal(r.status, 201, r.raw);
    assert.equal(r.body.keys.length, 1);
    assert.equal(r.body.keys[0].algorithm, "rsa-sha256");
    assert.match(r.body.keys[0].selector, /^pl\d{8}-rsa$/);
  });

  test("list, retire, remove", async () => {
    const list = await call("GET", "/v1/domains/keys.test/dkim");
    assert.equal(list.status, 200);
    assert.equal(list.body.keys.length, 3);
    assert.doesNotMatch(list.raw, /PRIVATE|privateKey/);

    const retired = await call("POST", "/v1/domains/keys.test/dkim/s1-rsa/retire");
    assert.equal(retired.status, 200, retired.raw);
    assert.equal(retired.body.active, false);
    assert.equal(retired.body.selector, "s1-rsa");
    const after1 = (await call("GET", "/v1/domains/keys.test/dkim")).body.keys as DkimKeyView[];
    assert.deepEqual(after1.filter((k) => !k.active).map((k) => k.selector), ["s1-rsa"], "a retired key stays listed");
    assert.deepEqual((await activeSigningKeys(t.db, "keys.test")).map((k) => k.selector).includes("s1-rsa"), false);

    assert.equal((await call("DELETE", "/v1/domains/keys.test/dkim/s1-rsa")).status, 204);
    const after2 = (await call("GET", "/v1/domains/keys.test/dkim")).body.keys as DkimKeyView[];
    assert.equal(after2.some((k) => k.selector === "s1-rsa"), false);
    assert.equal(after2.length, 2);
  });

  test("errors: 404 unknown domain or selector, 409 duplicate selector, 400 bad input, 401 without token", async () => {
    const e = (r: { status: number; body: { error: { code: string } } }, status: number, code: string) => {
      assert.equal(r.status, status, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
    };
    e(await call("POST", "/v1/domains/nope.test/dkim", {}), 404, "domain_not_found");
    e(await call("GET", "/v1/domains/nope.test/dkim"), 404, "domain_not_found");
    e(await call("POST", "/v1/domains/keys.test/dkim/nope/retire"), 404, "not_found");
    e(await call("DELETE", "/v1/domains/keys.test/dkim/nope"), 404, "not_found");
    e(await call("DELETE", "/v1/domains/nope.test/dkim/s1-ed"), 404, "domain_not_found");
    e(await call("POST", "/v1/domains/keys.test/dkim", { algorithm: "ed25519-sha256", selector: "s1-ed" }), 409, "already_exists");
    e(await call("POST", "/v1/domains/keys.test/dkim", { algorithm: "dsa" }), 400, "invalid_request");
    e(await call("POST", "/v1/domains/keys.test/dkim", { selectr: "typo" }), 400, "invalid_request");
    e(await call("POST", "/v1/domains/keys.test/dkim", { selector: "under_score" }), 400, "invalid");
    const anon = await app.inject({ method: "GET", url: "/v1/domains/keys.test/dkim" });
    assert.equal(anon.statusCode, 401);
  });

  test("the OpenAPI document describes the DKIM routes", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    assert.ok(doc.paths["/v1/domains/{domain}/dkim"].post);
    assert.ok(doc.paths["/v1/domains/{domain}/dkim"].get);
    assert.ok(doc.paths["/v1/domains/{domain}/dkim/{selector}/retire"].post);
    assert.ok(doc.paths["/v1/domains/{domain}/dkim/{selector}"].delete);
    assert.deepEqual(doc.paths["/v1/domains/{domain}/dkim"].post.tags, ["dkim"]);
  });
});
