import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance, InjectOptions } from "fastify";
import { allTopics, openBus, retryTopic, type Bus, type Consumer } from "@postline/bus";
import { deliveryRetry, newMailId, type DeliveryRetry } from "@postline/events";
import { addBlobRef } from "@postline/mailstore";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { buildAdminApi } from "../src/index.ts";

const TOKEN = "test-token-0123456789abcdef";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let t: TestDatabase;
let bus: Bus;
let app: FastifyInstance;
let noBus: FastifyInstance;
let consumer: Consumer;
const retries: { key: string; event: DeliveryRetry }[] = [];

before(async () => {
  t = await createTestDatabase();
  bus = openBus({ kind: "embedded", db: t.db, pollIntervalMs: 25, heartbeatIntervalMs: 150, trimIntervalMs: 0, logger: quiet });
  await bus.createTopics(allTopics(2));
  consumer = await bus.consume({
    groupId: "queue-test",
    topics: [retryTopic("1m")],
    handler: async (m) => {
      retries.push({ key: m.key ?? "", event: deliveryRetry.parse(JSON.parse(m.value.toString("utf8"))) });
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
interface Rcpt {
  rcpt: string;
  status?: string;
  attempts?: number;
  lastError?: string;
  inFlight?: boolean;
}

/** An outbound message with remote recipients, inserted the way remote delivery records it. */
async function queued(rcpts: Rcpt[]): Promise<{ id: string; blobKey: string }> {
  const id = newMailId();
  const blobKey = (0xb000 + ++counter).toString(16).padStart(64, "0");
  await t.db.transaction(async (tx) => {
    await addBlobRef(tx, { key: blobKey, size: 2048 });
    await tx.query(
      `INSERT INTO outbound_messages (mail_id, source, sender, blob_key, size, envelope, received_at, expires_at)
       VALUES ($1, 'submission', 'alice@local.test', $2, 2048, $3, now(), now() + interval '5 days')`,
      [id, blobKey, JSON.stringify({ smtpUtf8: true, body: "8BITMIME", dsn: { ret: "FULL", envid: "e-42", rcpt: {} } })],
    );
    for (const r of rcpts) {
      await tx.query(
        `INSERT INTO deliveries (mail_id, recipient, sender, status, attempts, last_error, next_attempt_at, domain, sending_since, lease_owner, lease_expires)
         VALUES ($1, $2, 'alice@local.test', $3, $4, $5, CASE WHEN $3 = 'deferred' THEN now() + interval '1 hour' END, $6,
                 CASE WHEN $7 THEN now() END, 'delivery-a', now() + interval '10 minutes')`,
        [id, r.rcpt, r.status ?? "queued", r.attempts ?? 0, r.lastError ?? null, r.rcpt.split("@")[1], r.inFlight ?? false],
      );
    }
  });
  return { id, blobKey };
}

async function waitForRetries(mailId: string, n: number): Promise<DeliveryRetry[]> {
  const deadline = Date.now() + 10_000;
  const mine = () => retries.filter((r) => r.key === mailId).map((r) => r.event);
  while (mine().length < n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
  return mine();
}

describe("queue API", () => {
  test("needs the token", async () => {
    for (const [method, url] of [
      ["GET", "/v1/queue"],
      ["GET", "/v1/queue/summary"],
      ["GET", `/v1/queue/${newMailId()}`],
      ["POST", `/v1/queue/${newMailId()}/retry`],
      ["DELETE", `/v1/queue/${newMailId()}`],
    ] as const) {
      assert.equal((await app.inject({ method, url })).statusCode, 401, `${method} ${url}`);
    }
  });

  test("list: the live queue by default, status and domain filters, pages with a cursor", async () => {
    const a = await queued([{ rcpt: "a1@list.test" }, { rcpt: "a2@other.test", status: "deferred", attempts: 2, lastError: "451 4.7.1 greylisted" }]);
    const b = await queued([{ rcpt: "b1@list.test", status: "delivered", attempts: 1 }, { rcpt: "b2@list.test", inFlight: true }]);

    const live = await call("GET", "/v1/queue");
    assert.equal(live.status, 200);
    const names = (body: { queue: { recipient: string }[] }) => body.queue.map((r) => r.recipient);
    assert.deepEqual(names(live.body), ["b2@list.test", "a2@other.test", "a1@list.test"]);
    assert.equal(live.body.next, null);
    const a2 = live.body.queue[1];
    assert.deepEqual(
      { ...a2, createdAt: undefined, updatedAt: undefined, nextAttemptAt: undefined },
      {
        mailId: a.id,
        recipient: "a2@other.test",
        sender: "alice@local.test",
        domain: "other.test",
        status: "deferred",
        attempts: 2,
        lastError: "451 4.7.1 greylisted",
        nextAttemptAt: undefined,
        remoteHost: null,
        remoteReply: null,
        lastAttemptAt: null,
        createdAt: undefined,
        updatedAt: undefined,
        inFlight: false,
        resends: 0,
      },
    );
    assert.ok(Date.parse(a2.nextAttemptAt) > Date.now());
    assert.equal(live.body.queue[0].inFlight, true);

    assert.deepEqual(names((await call("GET", "/v1/queue?status=all")).body), ["b2@list.test", "b1@list.test", "a2@other.test", "a1@list.test"]);
    assert.deepEqual(names((await call("GET", "/v1/queue?status=delivered")).body), ["b1@list.test"]);
    assert.deepEqual(names((await call("GET", "/v1/queue?status=all&domain=LIST.test")).body), ["b2@list.test", "b1@list.test", "a1@list.test"]);

    const p1 = await call("GET", "/v1/queue?status=all&limit=3");
    assert.deepEqual(names(p1.body), ["b2@list.test", "b1@list.test", "a2@other.test"]);
    assert.equal(typeof p1.body.next, "string");
    const p2 = await call("GET", `/v1/queue?status=all&limit=3&before=${p1.body.next}`);
    assert.deepEqual(names(p2.body), ["a1@list.test"]);
    assert.equal(p2.body.next, null);
    assert.equal(b.id > a.id, true);
  });

  test("summary: counts by status and the domains where the live queue waits", async () => {
    await queued([{ rcpt: "s1@slow.test", status: "deferred", attempts: 4, lastError: "421 4.4.2 timeout" }, { rcpt: "s2@slow.test" }, { rcpt: "s3@slow.test" }]);
    const r = await call("GET", "/v1/queue/summary");
    assert.equal(r.status, 200);
    const counts = (await t.db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM deliveries WHERE domain IS NOT NULL GROUP BY status")).rows;
    for (const s of ["queued", "deferred", "delivered", "bounced", "deleted"]) {
      assert.equal(r.body.counts[s], counts.find((c) => c.status === s)?.n ?? 0, s);
    }
    assert.equal(r.body.inFlight, 1);
    const slow = r.body.domains[0];
    assert.deepEqual({ ...slow, oldestQueuedAt: undefined }, { domain: "slow.test", waiting: 3, queued: 2, deferred: 1, inFlight: 0, lastError: "421 4.4.2 timeout", oldestQueuedAt: undefined });
    assert.equal((await call("GET", "/v1/queue/summary?top=1")).body.domains.length, 1);
    assert.equal((await call("GET", "/v1/queue/summary?top=0")).status, 400);
  });

  test("show: the message, its envelope and all its recipients", async () => {
    const m = await queued([{ rcpt: "x@show.test", status: "bounced", attempts: 1, lastError: "550 5.1.1 unknown" }, { rcpt: "y@show.test" }]);
    const r = await call("GET", `/v1/queue/${m.id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.mailId, m.id);
    assert.equal(r.body.source, "submission");
    assert.equal(r.body.sender, "alice@local.test");
    assert.equal(r.body.size, 2048);
    assert.deepEqual(r.body.envelope, { smtpUtf8: true, body: "8BITMIME", dsn: { ret: "FULL", envid: "e-42", rcpt: {} } });
    assert.ok(Date.parse(r.body.expiresAt) > Date.parse(r.body.receivedAt));
    assert.deepEqual(r.body.recipients.map((x: { recipient: string; status: string }) => [x.recipient, x.status]), [["x@show.test", "bounced"], ["y@show.test", "queued"]]);
  });

  test("retry: waiting recipients become due and one deliveryRetry each is published on delivery.retry.1m", async () => {
    const m = await queued([
      { rcpt: "d@retry.test", status: "deferred", attempts: 3, lastError: "451 later" },
      { rcpt: "q@retry.test" },
      { rcpt: "done@retry.test", status: "delivered", attempts: 1 },
    ]);
    const r = await call("POST", `/v1/queue/${m.id}/retry`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.scheduled.map((x: { recipient: string }) => x.recipient), ["d@retry.test", "q@retry.test"]);
    for (const x of r.body.scheduled) assert.ok(Date.parse(x.nextAttemptAt) <= Date.now());

    const events = await waitForRetries(m.id, 2);
    assert.deepEqual(
      events.map((e) => [e.v, e.id, e.rcpt, e.attempt]).sort(),
      [
        [1, m.id, "d@retry.test", 3],
        [1, m.id, "q@retry.test", 0],
      ],
    );
    assert.equal(events[0]!.notBefore, r.body.scheduled.find((x: { recipient: string }) => x.recipient === events[0]!.rcpt).nextAttemptAt);
    const due = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM deliveries WHERE mail_id = $1 AND next_attempt_at <= now() AND lease_owner IS NULL AND status IN ('queued', 'deferred')",
      [m.id],
    );
    assert.equal(due.rows[0]!.n, 2);

    // One recipient: body {recipient}.
    const one = await call("POST", `/v1/queue/${m.id}/retry`, { recipient: "d@retry.test" });
    assert.equal(one.status, 200);
    assert.deepEqual(one.body.scheduled.map((x: { recipient: string }) => x.recipient), ["d@retry.test"]);
    assert.equal((await waitForRetries(m.id, 3)).length, 3);

    const final = await call("POST", `/v1/queue/${m.id}/retry`, { recipient: "done@retry.test" });
    assert.equal(final.status, 409);
    assert.equal(final.body.error.code, "nothing_waiting");
  });

  test("retry: nothing waiting (delivered, or being sent) is 409; no bus is 503 and changes nothing", async () => {
    const sending = await queued([{ rcpt: "s@busy.test", status: "deferred", attempts: 1, inFlight: true }]);
    const r = await call("POST", `/v1/queue/${sending.id}/retry`);
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, "nothing_waiting");

    const m = await queued([{ rcpt: "w@nobus.test", status: "deferred", attempts: 1 }]);
    const n = await call("POST", `/v1/queue/${m.id}/retry`, undefined, noBus);
    assert.equal(n.status, 503);
    assert.equal(n.body.error.code, "unavailable");
    const row = await t.db.query<{ later: boolean }>("SELECT next_attempt_at > now() AS later FROM deliveries WHERE mail_id = $1", [m.id]);
    assert.equal(row.rows[0]!.later, true);
  });

  test("delete: waiting recipients become deleted without a DSN; the blob is given back when none waits", async () => {
    const m = await queued([{ rcpt: "a@del.test", status: "deferred", attempts: 1 }, { rcpt: "b@del.test" }, { rcpt: "c@del.test", status: "delivered", attempts: 1 }]);
    const one = await call("DELETE", `/v1/queue/${m.id}?recipient=a%40del.test`);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(one.body.deleted.map((x: { recipient: string; status: string; lastError: string }) => [x.recipient, x.status, x.lastError]), [["a@del.test", "deleted", "deleted by an operator"]]);
    const refcount = async () => (await t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [m.blobKey])).rows[0]!.refcount;
    assert.equal(await refcount(), 1);

    const rest = await call("DELETE", `/v1/queue/${m.id}`);
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.body.deleted.map((x: { recipient: string }) => x.recipient), ["b@del.test"]);
    assert.equal(await refcount(), 0);
    const shown = await call("GET", `/v1/queue/${m.id}`);
    assert.deepEqual(shown.body.recipients.map((x: { status: string }) => x.status), ["deleted", "deleted", "delivered"]);
    // No DSN went into the queue for the sender.
    assert.equal((await call("GET", "/v1/queue?status=all&domain=local.test")).body.queue.length, 0);

    const again = await call("DELETE", `/v1/queue/${m.id}`);
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, "nothing_waiting");
  });

  test("unknown or malformed ids and parameters: 404 and 400 in the usual error shape", async () => {
    const unknown = newMailId();
    for (const [method, url] of [
      ["GET", `/v1/queue/${unknown}`],
      ["POST", `/v1/queue/${unknown}/retry`],
      ["DELETE", `/v1/queue/${unknown}`],
    ] as const) {
      const r = await call(method, url);
      assert.equal(r.status, 404, `${method} ${url}`);
      assert.equal(r.body.error.code, "not_found");
    }
    const m = await queued([{ rcpt: "k@known.test" }]);
    assert.equal((await call("POST", `/v1/queue/${m.id}/retry`, { recipient: "other@known.test" })).status, 404);
    assert.equal((await call("DELETE", `/v1/queue/${m.id}?recipient=other@known.test`)).status, 404);

    for (const url of ["/v1/queue/not-a-ulid", "/v1/queue?status=stuck", "/v1/queue?status=queued,", "/v1/queue?limit=0", "/v1/queue?before=abc", "/v1/queue?colour=red"]) {
      const r = await call("GET", url);
      assert.equal(r.status, 400, url);
      assert.equal(r.body.error.code, "invalid_request");
    }
    assert.equal((await call("POST", `/v1/queue/${m.id}/retry`, { recipient: "k@known.test", extra: 1 })).status, 400);
    assert.equal((await call("DELETE", `/v1/queue/${m.id}?force=true`)).status, 400);
    // Still waiting after all that.
    assert.equal((await call("GET", `/v1/queue/${m.id}`)).body.recipients[0].status, "queued");
  });

  test("the OpenAPI document describes the queue routes", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of ["/v1/queue", "/v1/queue/summary", "/v1/queue/{mailId}", "/v1/queue/{mailId}/retry"]) assert.ok(doc.paths[path], path);
  });
});
