import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance, InjectOptions } from "fastify";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { buildAdminApi } from "../src/index.ts";

const TOKEN = "test-token-0123456789abcdef";
const PASSWORD = "correct horse battery staple";

let t: TestDatabase;
let app: FastifyInstance;

before(async () => {
  t = await createTestDatabase();
  app = buildAdminApi({ db: t.db, token: TOKEN });
  await app.ready();
});
after(async () => {
  await app.close();
  await t.drop();
});

/** An authenticated request; returns status and parsed JSON body. */
async function call(method: InjectOptions["method"], url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined, headers: res.headers };
}

function assertError(r: { status: number; body: { error: { code: string; message: string } } }, status: number, code?: string) {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(typeof r.body.error.message, "string");
  if (code) assert.equal(r.body.error.code, code);
}

describe("authentication", () => {
  test("no token: 401 with a Bearer challenge", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/domains" });
    assert.equal(res.statusCode, 401);
    assert.equal(res.headers["www-authenticate"], 'Bearer realm="postline-admin"');
    assert.equal(res.json().error.code, "unauthorized");
  });

  test("wrong token, wrong scheme, token of another length: 401", async () => {
    for (const authorization of ["Bearer nope", `Bearer ${TOKEN}x`, `Basic ${Buffer.from(`admin:${TOKEN}`).toString("base64")}`, TOKEN, "Bearer "]) {
      const res = await app.inject({ method: "POST", url: "/v1/domains", headers: { authorization }, payload: { name: "sneaky.test" } });
      assert.equal(res.statusCode, 401, authorization);
      assert.match(String(res.headers["www-authenticate"]), /^Bearer realm="postline-admin", error="invalid_token"$/);
    }
    const list = await call("GET", "/v1/domains");
    assert.deepEqual(list.body.domains, [], "nothing was created by unauthenticated requests");
  });

  test("the token scheme is case-insensitive", async () => {
    const res = await app.inject({ method: "GET", url: "/v1/domains", headers: { authorization: `bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
  });

  test("health, readiness and the OpenAPI document need no token", async () => {
    assert.deepEqual((await app.inject({ method: "GET", url: "/healthz" })).json(), { status: "ok" });
    assert.deepEqual((await app.inject({ method: "GET", url: "/readyz" })).json(), { status: "ok" });
    assert.equal((await app.inject({ method: "GET", url: "/openapi.json" })).statusCode, 200);
  });
});

describe("domains", () => {
  test("create, get (by U-label too), list, set catch-all", async () => {
    const created = await call("POST", "/v1/domains", { name: "Example.com" });
    assert.equal(created.status, 201);
    assert.equal(created.body.name, "example.com");
    assert.equal(created.body.catchAll, null);
    assert.ok(!Number.isNaN(Date.parse(created.body.createdAt)));

    const idn = await call("POST", "/v1/domains", { name: "bücher.example", catchAll: "Info@bücher.example" });
    assert.equal(idn.status, 201);
    assert.deepEqual([idn.body.name, idn.body.unicodeName, idn.body.catchAll], ["xn--bcher-kva.example", "bücher.example", "info@xn--bcher-kva.example"]);
    assert.equal((await call("GET", `/v1/domains/${encodeURIComponent("BÜCHER.example")}`)).body.name, "xn--bcher-kva.example");

    const list = await call("GET", "/v1/domains");
    assert.deepEqual(
      list.body.domains.map((d: { name: string }) => d.name),
      ["example.com", "xn--bcher-kva.example"],
    );

    const patched = await call("PATCH", "/v1/domains/example.com", { catchAll: "postmaster@example.com" });
    assert.equal(patched.body.catchAll, "postmaster@example.com");
    assert.equal((await call("PATCH", "/v1/domains/example.com", { catchAll: null })).body.catchAll, null);
  });

  test("conflicts, validation and unknown domains", async () => {
    assertError(await call("POST", "/v1/domains", { name: "EXAMPLE.COM" }), 409, "already_exists");
    assertError(await call("POST", "/v1/domains", { name: "not a domain" }), 400, "invalid");
    assertError(await call("POST", "/v1/domains", {}), 400, "invalid_request");
    assertError(await call("POST", "/v1/domains", { name: "ok.test", color: "blue" }), 400, "invalid_request");
    assertError(await call("POST", "/v1/domains", { name: 42 }), 400);
    assertError(await call("GET", "/v1/domains/nowhere.test"), 404, "domain_not_found");
    assertError(await call("DELETE", "/v1/domains/nowhere.test"), 404, "domain_not_found");
    assertError(await call("PATCH", "/v1/domains/example.com", { catchAll: "not an address" }), 400, "invalid");
    const notJson = await app.inject({ method: "POST", url: "/v1/domains", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, payload: "{nope" });
    assert.equal(notJson.statusCode, 400);
    assert.equal(typeof notJson.json().error.code, "string");
  });
});

describe("accounts", () => {
  test("create never returns the password hash; get, list, paginate", async () => {
    const created = await call("POST", "/v1/accounts", { address: "Alice@Example.com", password: PASSWORD, quotaBytes: 1_000_000 });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ["address", "createdAt", "disabled", "domain", "quotaBytes", "updatedAt", "usedBytes"]);
    assert.equal(created.body.address, "alice@example.com");
    assert.equal(created.body.quotaBytes, 1_000_000);
    assert.doesNotMatch(JSON.stringify(created.body), /argon2/);

    for (const u of ["bob", "carol"]) assert.equal((await call("POST", "/v1/accounts", { address: `${u}@example.com`, password: PASSWORD })).status, 201);
    const one = await call("GET", "/v1/accounts/alice@example.com");
    assert.equal(one.body.address, "alice@example.com");
    assert.doesNotMatch(JSON.stringify(one.body), /argon2|password/i);

    const all = await call("GET", "/v1/accounts?domain=example.com");
    assert.deepEqual(
      all.body.accounts.map((a: { address: string }) => a.address),
      ["alice@example.com", "bob@example.com", "carol@example.com"],
    );
    assert.equal(all.body.next, null);
    const page1 = await call("GET", "/v1/accounts?limit=2");
    assert.equal(page1.body.accounts.length, 2);
    assert.equal(page1.body.next, "bob@example.com");
    const page2 = await call("GET", `/v1/accounts?limit=2&after=${encodeURIComponent(page1.body.next)}`);
    assert.deepEqual(
      page2.body.accounts.map((a: { address: string }) => a.address),
      ["carol@example.com"],
    );
    assert.equal(page2.body.next, null);
  });

  test("an address with a slash in its local part works in the path when URL-encoded", async () => {
    assert.equal((await call("POST", "/v1/accounts", { address: "sales/eu@example.com", password: PASSWORD })).status, 201);
    const r = await call("GET", `/v1/accounts/${encodeURIComponent("sales/eu@example.com")}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.address, "sales/eu@example.com");
    assert.equal((await call("DELETE", `/v1/accounts/${encodeURIComponent("sales/eu@example.com")}`)).status, 204);
  });

  test("patch password, quota, disabled", async () => {
    const r = await call("PATCH", "/v1/accounts/alice@example.com", { quotaBytes: null, disabled: true });
    assert.equal(r.status, 200);
    assert.equal(r.body.quotaBytes, null);
    assert.equal(r.body.disabled, true);
    const pw = await call("PATCH", "/v1/accounts/ALICE@example.com", { password: "another good password" });
    assert.equal(pw.status, 200);
    const hash = await t.db.query<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE address = 'alice@example.com'");
    assert.match(hash.rows[0]!.password_hash, /^\$argon2id\$/);
    assert.equal((await call("PATCH", "/v1/accounts/alice@example.com", { disabled: false })).body.disabled, false);
  });

  test("validation 400s, 404s and 409s", async () => {
    assertError(await call("POST", "/v1/accounts", { address: "alice@example.com", password: PASSWORD }), 409, "already_exists");
    assertError(await call("POST", "/v1/accounts", { address: "x@nowhere.test", password: PASSWORD }), 404, "domain_not_found");
    assertError(await call("POST", "/v1/accounts", { address: "dave@example.com", password: "short" }), 400, "invalid_request");
    assertError(await call("POST", "/v1/accounts", { address: "dave@example.com" }), 400, "invalid_request");
    assertError(await call("POST", "/v1/accounts", { address: "dave@example.com", password: PASSWORD, quotaBytes: -5 }), 400, "invalid_request");
    assertError(await call("POST", "/v1/accounts", { address: "dave@example.com", password: PASSWORD, passwordHash: "x" }), 400, "invalid_request");
    assertError(await call("POST", "/v1/accounts", { address: "no at sign", password: PASSWORD }), 400, "invalid");
    assertError(await call("PATCH", "/v1/accounts/alice@example.com", {}), 400, "invalid_request");
    assertError(await call("PATCH", "/v1/accounts/alice@example.com", { quota: 5 }), 400, "invalid_request");
    assertError(await call("PATCH", "/v1/accounts/nobody@example.com", { disabled: true }), 404, "not_found");
    assertError(await call("GET", "/v1/accounts/nobody@example.com"), 404, "not_found");
    assertError(await call("GET", "/v1/accounts?domain=nowhere.test"), 404, "domain_not_found");
    assertError(await call("GET", "/v1/accounts?limit=0"), 400, "invalid_request");
    assertError(await call("DELETE", "/v1/accounts/nobody@example.com"), 404, "not_found");
  });
});

describe("aliases and resolution", () => {
  test("add several destinations, list by domain, resolve, remove", async () => {
    assert.equal((await call("POST", "/v1/aliases", { source: "Team@example.com", destination: "bob@example.com" })).status, 201);
    const second = await call("POST", "/v1/aliases", { source: "team@example.com", destination: "friend@remote.test" });
    assert.equal(second.status, 201);
    assert.deepEqual(second.body.source, "team@example.com");
    assertError(await call("POST", "/v1/aliases", { source: "team@example.com", destination: "bob@example.com" }), 409, "already_exists");
    assertError(await call("POST", "/v1/aliases", { source: "team@nowhere.test", destination: "bob@example.com" }), 404, "domain_not_found");
    assertError(await call("POST", "/v1/aliases", { source: "team@example.com" }), 400, "invalid_request");

    const list = await call("GET", "/v1/aliases?domain=example.com");
    assert.deepEqual(
      list.body.aliases.map((a: { source: string; destination: string }) => `${a.source}>${a.destination}`),
      ["team@example.com>bob@example.com", "team@example.com>friend@remote.test"],
    );
    assertError(await call("GET", "/v1/aliases?domain=nowhere.test"), 404, "domain_not_found");

    const resolved = await call("GET", "/v1/resolve/team@example.com");
    assert.equal(resolved.body.kind, "deliver");
    assert.deepEqual(resolved.body.remote, ["friend@remote.test"]);
    assert.deepEqual(
      resolved.body.accounts.map((a: { address: string }) => a.address),
      ["bob@example.com"],
    );
    assert.equal((await call("GET", "/v1/resolve/x@remote.test")).body.kind, "not-local-domain");

    const q = new URLSearchParams({ source: "team@example.com", destination: "friend@remote.test" });
    assert.equal((await call("DELETE", `/v1/aliases?${q}`)).status, 204);
    assertError(await call("DELETE", `/v1/aliases?${q}`), 404, "not_found");
    assertError(await call("DELETE", "/v1/aliases?source=team@example.com"), 400, "invalid_request");
  });

  test("deleting: an account, then a non-empty domain needs force", async () => {
    assert.equal((await call("DELETE", "/v1/accounts/carol@example.com")).status, 204);
    assertError(await call("GET", "/v1/accounts/carol@example.com"), 404);
    assertError(await call("DELETE", "/v1/domains/example.com"), 409, "domain_not_empty");
    assert.equal((await call("DELETE", "/v1/domains/example.com?force=true")).status, 204);
    assertError(await call("GET", "/v1/domains/example.com"), 404);
    assert.equal((await call("GET", "/v1/accounts")).body.accounts.length, 0);
  });

  test("unknown routes answer 404 in the error format", async () => {
    assertError(await call("GET", "/v1/nothing-here"), 404, "not_found");
  });
});

describe("OpenAPI document", () => {
  test("is OpenAPI 3 and documents every route with its security", async () => {
    const res = await app.inject({ method: "GET", url: "/openapi.json" });
    const doc = res.json();
    assert.match(doc.openapi, /^3\./);
    assert.equal(doc.info.title, "Postline admin API");
    assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: "http", scheme: "bearer" });
    const paths = Object.keys(doc.paths).sort();
    assert.deepEqual(paths, [
      "/healthz",
      "/readyz",
      "/v1/accounts",
      "/v1/accounts/{address}",
      "/v1/aliases",
      "/v1/domains",
      "/v1/domains/{domain}/dkim",
      "/v1/domains/{domain}/dkim/{selector}",
      "/v1/domains/{domain}/dkim/{selector}/retire",
      "/v1/domains/{name}",
      "/v1/quarantine",
      "/v1/quarantine/{mailId}",
      "/v1/quarantine/{mailId}/release",
      "/v1/queue",
      "/v1/queue/summary",
      "/v1/queue/{mailId}",
      "/v1/queue/{mailId}/retry",
      "/v1/resolve/{address}",
      "/v1/spam/lists",
      "/v1/spam/lists/{id}",
      "/v1/spam/verdicts/{mailId}",
    ]);
    assert.deepEqual(Object.keys(doc.paths["/v1/accounts/{address}"]).sort(), ["delete", "get", "patch"]);
    assert.deepEqual(Object.keys(doc.paths["/v1/domains"]).sort(), ["get", "post"]);
    assert.deepEqual(Object.keys(doc.paths["/v1/aliases"]).sort(), ["delete", "get", "post"]);
    const create = doc.paths["/v1/accounts"].post;
    assert.deepEqual(create.requestBody.content["application/json"].schema.required, ["address", "password"]);
    assert.ok(create.responses["201"] && create.responses["400"] && create.responses["409"]);
    assert.deepEqual(doc.security, [{ bearerAuth: [] }]);
    assert.deepEqual(doc.paths["/healthz"].get.security, []);
  });
});
