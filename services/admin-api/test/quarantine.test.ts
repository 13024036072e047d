import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance, InjectOptions } from "fastify";
import { Topics, allTopics, openBus, type Bus, type Consumer } from "@postline/bus";
import { mailClassified, newMailId, type MailClassified } from "@postline/events";
import { quarantineMessage } from "@postline/mailstore";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { buildAdminApi } from "../src/index.ts";

const TOKEN = "test-token-0123456789abcdef";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let t: TestDatabase;
let bus: Bus;
let app: FastifyInstance;
let noBus: FastifyInstance;
let consumer: Consumer;
const published: MailClassified[] = [];

before(async () => {
  t = await createTestDatabase();
  bus = openBus({ kind: "embedded", db: t.db, pollIntervalMs: 25, heartbeatIntervalMs: 150, trimIntervalMs: 0, logger: quiet });
  await bus.createTopics(allTopics(2));
  consumer = await bus.consume({
    groupId: "quarantine-test",
    topics: [Topics.mailClassified],
    handler: async (m) => {
      published.push(mailClassified.parse(JSON.parse(m.value.toString("utf8"))));
    },
  });
  app = buildAdminApi({ db: t.db, bus, token: TOKEN });
  noBus = buildAdminApi({ db: t.db, token: TOKEN });
  await Promise.all([app.ready(), noBus.ready()]);
});
after(async () => {
  await consumer.stop();
  await Promise.all([app.close(), noBus.close()]);
  await bus.close();
  await t.drop();
});

async function call(method: InjectOptions["method"], url: string, payload?: object, on = app) {
  const res = await on.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

let counter = 0;
/** A quarantined message as delivery leaves it (the blob need not exist for the API). */
async function quarantined(options: { action?: "quarantine" | "reject"; rcpt?: string } = {}): Promise<MailClassified> {
  const key = (++counter).toString(16).padStart(64, "0");
  const event: MailClassified = {
    v: 1,
    id: newMailId(),
    blob: { key, sha256: key, size: 1234 },
    envelope: { mailFrom: "spammer@bad.example", rcptTo: [options.rcpt ?? "alice@example.test"], smtpUtf8: false, body: "7BIT", dsn: { rcpt: {} } },
    client: { ip: "192.0.2.66", helo: "bad.example", tls: false },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
    source: "inbound",
    verdict: {
      action: options.action ?? "quarantine",
      score: 14.5,
      symbols: [
        { name: "DNSBL_LISTED", score: 10, detail: "zen.test" },
        { name: "FROM_REPLYTO_MISMATCH", score: 4.5 },
      ],
      authResults: "mx.postline.test; spf=fail smtp.mailfrom=bad.example",
    },
  };
  await quarantineMessage(t.db, event, { subject: `offer ${counter}`, from: "Spammer <spammer@bad.example>" });
  return event;
}

describe("quarantine API", () => {
  test("needs the token", async () => {
    assert.equal((await app.inject({ method: "GET", url: "/v1/quarantine" })).statusCode, 401);
  });

  test("list (newest first, paged, by status and recipient) and details with the verdict", async () => {
    const a = await quarantined();
    const b = await quarantined({ action: "reject", rcpt: "bob@example.test" });
    const c = await quarantined();

    const all = await call("GET", "/v1/quarantine");
    assert.equal(all.status, 200);
    assert.deepEqual(
      all.body.quarantine.map((e: { mailId: string }) => e.mailId),
      [c.id, b.id, a.id],
    );
    assert.equal(all.body.next, null);

    const page1 = await call("GET", "/v1/quarantine?limit=2");
    assert.deepEqual(page1.body.quarantine.map((e: { mailId: string }) => e.mailId), [c.id, b.id]);
    assert.equal(page1.body.next, b.id);
    const page2 = await call("GET", `/v1/quarantine?limit=2&after=${page1.body.next}`);
    assert.deepEqual(page2.body.quarantine.map((e: { mailId: string }) => e.mailId), [a.id]);
    assert.equal(page2.body.next, null);

    const bob = await call("GET", "/v1/quarantine?recipient=Bob@example.test");
    assert.deepEqual(bob.body.quarantine.map((e: { mailId: string }) => e.mailId), [b.id]);

    const details = await call("GET", `/v1/quarantine/${b.id}`);
    assert.equal(details.status, 200);
    assert.deepEqual(
      { ...details.body, receivedAt: undefined, quarantinedAt: undefined },
      {
        mailId: b.id,
        source: "inbound",
        sender: "spammer@bad.example",
        recipients: ["bob@example.test"],
        action: "reject",
        score: 14.5,
        verdict: b.verdict,
        size: 1234,
        subject: "offer 2",
        from: "Spammer <spammer@bad.example>",
        receivedAt: undefined,
        quarantinedAt: undefined,
        releasedAt: null,
        releasedBy: null,
      },
    );
    assert.equal(details.body.receivedAt, b.receivedAt);
  });

  test("release: re-published as mail.classified with a deliver verdict and QUARANTINE_RELEASED", async () => {
    const e = await quarantined();
    const r = await call("POST", `/v1/quarantine/${e.id}/release`, { by: "postmaster" });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.releasedBy, "postmaster");
    assert.ok(r.body.releasedAt);

    const deadline = Date.now() + 10_000;
    while (!published.some((p) => p.id === e.id) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
    const event = published.find((p) => p.id === e.id)!;
    assert.ok(event, "published");
    assert.deepEqual({ ...event, verdict: undefined }, { ...e, verdict: undefined });
    assert.equal(event.verdict.action, "deliver");
    assert.equal(event.verdict.score, 14.5);
    assert.equal(event.verdict.authResults, e.verdict.authResults);
    assert.deepEqual(
      event.verdict.symbols.map((s) => s.name),
      ["DNSBL_LISTED", "FROM_REPLYTO_MISMATCH", "QUARANTINE_RELEASED"],
    );

    // Released: listed under status=released only; a bare POST releases again (re-publishes).
    assert.ok(!(await call("GET", "/v1/quarantine")).body.quarantine.some((x: { mailId: string }) => x.mailId === e.id));
    assert.ok((await call("GET", "/v1/quarantine?status=released")).body.quarantine.some((x: { mailId: string }) => x.mailId === e.id));
    const again = await call("POST", `/v1/quarantine/${e.id}/release`);
    assert.equal(again.status, 200);
    assert.equal(again.body.releasedBy, "postmaster");

    // Not discardable until delivery has stored it.
    const d = await call("DELETE", `/v1/quarantine/${e.id}`);
    assert.equal(d.status, 409);
    assert.equal(d.body.error.code, "release_pending");
  });

  test("release without a bus: 503, nothing changes", async () => {
    const e = await quarantined();
    const r = await call("POST", `/v1/quarantine/${e.id}/release`, undefined, noBus);
    assert.equal(r.status, 503);
    assert.equal(r.body.error.code, "unavailable");
    assert.equal((await call("GET", `/v1/quarantine/${e.id}`)).body.releasedAt, null);
  });

  test("discard: 204, then gone; the blob reference is given back", async () => {
    const e = await quarantined();
    assert.equal((await t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [e.blob.key])).rows[0]!.refcount, 1);
    assert.equal((await call("DELETE", `/v1/quarantine/${e.id}`)).status, 204);
    assert.equal((await call("GET", `/v1/quarantine/${e.id}`)).status, 404);
    assert.equal((await t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [e.blob.key])).rows[0]!.refcount, 0);
  });

  test("unknown or malformed ids: 404 and 400 in the usual error shape", async () => {
    const unknown = newMailId();
    for (const [method, url] of [
      ["GET", `/v1/quarantine/${unknown}`],
      ["POST", `/v1/quarantine/${unknown}/release`],
      ["DELETE", `/v1/quarantine/${unknown}`],
    ] as const) {
      const r = await call(method, url);
      assert.equal(r.status, 404, `${method} ${url}`);
      assert.equal(r.body.error.code, "not_found");
    }
    const bad = await call("GET", "/v1/quarantine/not-a-ulid");
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "invalid_request");
    assert.equal((await call("GET", "/v1/quarantine?status=everything")).status, 400);
    assert.equal((await call("POST", `/v1/quarantine/${unknown}/release`, { by: "x", extra: 1 })).status, 400);
  });

  test("the OpenAPI document describes the quarantine routes", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of ["/v1/quarantine", "/v1/quarantine/{mailId}", "/v1/quarantine/{mailId}/release"]) assert.ok(doc.paths[path], path);
  });
});
