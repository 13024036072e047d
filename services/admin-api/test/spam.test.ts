import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FastifyInstance, InjectOptions } from "fastify";
import { addDomain, createAccount } from "@postline/directory";
import { newMailId } from "@postline/events";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { AdminApiClient, AdminApiError, buildAdminApi } from "../src/index.ts";

const TOKEN = "test-token-0123456789abcdef";
let t: TestDatabase;
let app: FastifyInstance;
let bobId: number;

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "example.test");
  await addDomain(t.db, "other.test");
  bobId = (await createAccount(t.db, { address: "bob@example.test", password: "correct horse battery" })).id;
  await createAccount(t.db, { address: "carol@example.test", password: "correct horse battery" });
  app = buildAdminApi({ db: t.db, token: TOKEN });
  await app.ready();
});
after(async () => {
  await app?.close();
  await t?.drop();
});

async function call(method: InjectOptions["method"], url: string, payload?: object, token = TOKEN) {
  const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

test("allow and block entries per account and per domain: add, list, remove", async () => {
  const a = await call("POST", "/v1/spam/lists", { account: "Bob@example.test", kind: "allow", value: "Alice@Sender.test", comment: "colleague" });
  assert.equal(a.status, 201, JSON.stringify(a.body));
  assert.deepEqual({ ...a.body, id: 0, createdAt: "" }, {
    id: 0,
    account: "bob@example.test",
    domain: null,
    kind: "allow",
    type: "address",
    value: "alice@sender.test",
    comment: "colleague",
    createdAt: "",
  });
  const b = await call("POST", "/v1/spam/lists", { domain: "example.test", kind: "block", value: "198.51.100.9/24" });
  assert.equal(b.status, 201);
  assert.equal(b.body.value, "198.51.100.0/24");
  assert.equal(b.body.type, "ip");
  const c = await call("POST", "/v1/spam/lists", { account: "carol@example.test", kind: "block", value: "*.spam.test" });
  assert.equal(c.body.type, "domain");

  const bobs = await call("GET", "/v1/spam/lists?account=bob@example.test");
  assert.equal(bobs.status, 200);
  assert.deepEqual(bobs.body.entries.map((e: { value: string }) => e.value), ["alice@sender.test"], "only bob's own list");
  const domain = await call("GET", "/v1/spam/lists?domain=example.test");
  assert.deepEqual(domain.body.entries.map((e: { value: string }) => e.value), ["198.51.100.0/24"]);
  assert.equal((await call("GET", "/v1/spam/lists?domain=other.test")).body.entries.length, 0);
  assert.equal((await call("GET", "/v1/spam/lists")).body.entries.length, 3);

  const removed = await call("DELETE", `/v1/spam/lists/${a.body.id}`);
  assert.equal(removed.status, 200);
  assert.equal(removed.body.value, "alice@sender.test");
  assert.equal((await call("GET", "/v1/spam/lists?account=bob@example.test")).body.entries.length, 0);
  assert.equal((await call("DELETE", `/v1/spam/lists/${a.body.id}`)).status, 404);
});

test("invalid requests answer 400, unknown lists 404, duplicates 409", async () => {
  const cases: Array<[object, number, RegExp]> = [
    [{ account: "bob@example.test", kind: "allow", value: "10.0.0.0/4" }, 400, /too broad/],
    [{ account: "bob@example.test", kind: "allow", value: "not a domain" }, 400, /not a valid domain/],
    [{ account: "bob@example.test", kind: "allow", value: "a*b.test" }, 400, /wildcard/],
    [{ account: "bob@example.test", kind: "maybe", value: "x.test" }, 400, /allow/],
    [{ account: "bob@example.test", domain: "example.test", kind: "allow", value: "x.test" }, 400, /./],
    [{ kind: "allow", value: "x.test" }, 400, /./],
    [{ account: "bob@example.test", kind: "allow", value: "x.test", extra: 1 }, 400, /./],
    [{ account: "nobody@example.test", kind: "allow", value: "x.test" }, 404, /nobody@example\.test does not exist/],
    [{ domain: "unknown.test", kind: "block", value: "x.test" }, 404, /unknown\.test does not exist/],
  ];
  for (const [body, status, message] of cases) {
    const r = await call("POST", "/v1/spam/lists", body);
    assert.equal(r.status, status, JSON.stringify(body));
    assert.match(r.body.error.message, message, JSON.stringify(body));
  }
  assert.equal((await call("POST", "/v1/spam/lists", { account: "bob@example.test", kind: "block", value: "dup.test" })).status, 201);
  const dup = await call("POST", "/v1/spam/lists", { account: "bob@example.test", kind: "block", value: "DUP.test" });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error.code, "already_exists");
  assert.equal((await call("GET", "/v1/spam/lists?account=bob@example.test&domain=example.test")).status, 400);
  assert.equal((await call("GET", "/v1/spam/lists?account=nobody@example.test")).status, 404);
  assert.equal((await call("DELETE", "/v1/spam/lists/abc")).status, 400);
  assert.equal((await call("DELETE", "/v1/spam/lists/0")).status, 400);
  assert.equal((await call("GET", "/v1/spam/lists", undefined, "wrong-token-wrong-token")).status, 401);
});

test("the recorded verdict of a message, 404 when unknown, 400 for a malformed id", async () => {
  const mailId = newMailId();
  const symbols = [
    { name: "SPF_PASS", score: -0.5, detail: "sender.test" },
    { name: "RBL_LISTED", score: 7, detail: "bl.test" },
  ];
  await t.db.query(
    `INSERT INTO spam_verdicts (mail_id, source, action, score, symbols, accounts, auth_results, mail_from, recipients, client_ip)
     VALUES ($1, 'inbound', 'junk', 6.5, $2::jsonb, $3::jsonb, 'mx.example.test; spf=pass smtp.mailfrom=sender.test', 'a@sender.test', $4, '192.0.2.1')`,
    [
      mailId,
      JSON.stringify(symbols),
      JSON.stringify([{ accountId: bobId, action: "reject", score: 26.5, symbols: [...symbols, { name: "USER_BLOCKLIST", score: 20, detail: "sender.test (envelope a@sender.test)" }] }, { accountId: 999999, action: "junk", score: 6.5, symbols }]),
      ["bob@example.test"],
    ],
  );
  const r = await call("GET", `/v1/spam/verdicts/${mailId}`);
  assert.equal(r.status, 200);
  assert.equal(r.body.mailId, mailId);
  assert.equal(r.body.action, "junk");
  assert.equal(r.body.score, 6.5);
  assert.deepEqual(r.body.symbols, symbols);
  assert.equal(r.body.accounts[0].address, "bob@example.test");
  assert.equal(r.body.accounts[0].symbols[2].name, "USER_BLOCKLIST");
  assert.equal(r.body.accounts[1].address, null, "an account deleted since");
  assert.match(r.body.authResults, /spf=pass/);

  const unknown = await call("GET", `/v1/spam/verdicts/${newMailId()}`);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, "not_found");
  assert.equal((await call("GET", "/v1/spam/verdicts/not-a-mail-id")).status, 400);
});

test("the client and the OpenAPI document", async () => {
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  const client = new AdminApiClient({ baseUrl: url, token: TOKEN });
  const e = await client.addSpamListEntry({ account: "carol@example.test", kind: "allow", value: "2001:db8::1" });
  assert.equal(e.value, "2001:db8::1");
  assert.ok((await client.spamLists({ account: "carol@example.test" })).some((x) => x.id === e.id));
  assert.equal((await client.removeSpamListEntry(e.id)).id, e.id);
  await assert.rejects(client.spamVerdict(newMailId()), (err: unknown) => err instanceof AdminApiError && err.status === 404);

  const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json() as { paths: Record<string, unknown> };
  for (const path of ["/v1/spam/lists", "/v1/spam/lists/{id}", "/v1/spam/verdicts/{mailId}"]) assert.ok(doc.paths[path], path);
});
