import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { deliveryRetry, newMailId } from "@postline/events";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import {
  DELETED_BY_OPERATOR,
  addBlobRef,
  deleteOutbound,
  getOutbound,
  listOutbound,
  outboundSummary,
  retryOutbound,
} from "../src/index.ts";

// The outbound queue as the operator sees it, on PostgreSQL: rows inserted the way remote delivery
// records them (one outbound_messages row holding a blob reference, one deliveries row per remote
// recipient with its domain).

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase();
});
after(async () => {
  await t.drop();
});

let counter = 0;
interface Rcpt {
  rcpt: string;
  status?: string;
  attempts?: number;
  lastError?: string;
  nextAttemptAt?: Date;
  sending?: boolean;
  lease?: string;
  remoteHost?: string;
  remoteReply?: string;
}

/** An outbound message with its remote recipients, as delivery records it. */
async function outbound(rcpts: Rcpt[], sender = "alice@local.test"): Promise<{ id: string; blobKey: string }> {
  const id = newMailId();
  const blobKey = (0xa000 + ++counter).toString(16).padStart(64, "0");
  await t.db.transaction(async (tx) => {
    await addBlobRef(tx, { key: blobKey, size: 4321 });
    await tx.query(
      `INSERT INTO outbound_messages (mail_id, source, sender, blob_key, size, envelope, received_at, expires_at)
       VALUES ($1, 'submission', $2, $3, 4321, $4, now() - interval '1 hour', now() + interval '5 days')`,
      [id, sender, blobKey, JSON.stringify({ smtpUtf8: false, body: "8BITMIME", dsn: { ret: "HDRS", envid: "env-1", rcpt: {} } })],
    );
    for (const r of rcpts) {
      await tx.query(
        `INSERT INTO deliveries (mail_id, recipient, sender, status, attempts, last_error, next_attempt_at, domain,
                                 lease_owner, lease_expires, sending_since, remote_host, remote_reply, last_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9::text IS NULL THEN NULL ELSE now() + interval '5 minutes' END,
                 CASE WHEN $10 THEN now() END, $11, $12, CASE WHEN $5 > 0 THEN now() END)`,
        [
          id,
          r.rcpt,
          sender,
          r.status ?? "queued",
          r.attempts ?? 0,
          r.lastError ?? null,
          r.nextAttemptAt ?? null,
          r.rcpt.split("@")[1],
          r.lease ?? null,
          r.sending ?? false,
          r.remoteHost ?? null,
          r.remoteReply ?? null,
        ],
      );
    }
  });
  return { id, blobKey };
}

async function refcount(key: string): Promise<number> {
  return (await t.db.query<{ refcount: number }>("SELECT refcount FROM blobs WHERE hash = $1", [key])).rows[0]!.refcount;
}

describe("outbound queue (mailstore, PostgreSQL)", () => {
  test("list: the live queue by default, newest first, by status and domain, paged with a cursor", async () => {
    const later = new Date(Date.now() + 600_000);
    const a = await outbound([{ rcpt: "x@list-a.test" }, { rcpt: "y@list-b.test", status: "deferred", attempts: 2, lastError: "451 4.7.1 greylisted", nextAttemptAt: later }]);
    const b = await outbound([{ rcpt: "z@list-a.test", status: "delivered", attempts: 1, remoteHost: "mx.list-a.test [127.0.0.1]", remoteReply: "250 2.0.0 ok" }]);
    const c = await outbound([{ rcpt: "w@list-a.test", status: "bounced", attempts: 1, lastError: "550 5.1.1 no such user" }, { rcpt: "v@list-a.test", sending: true, lease: "delivery-1" }]);
    // A local recipient of the same message is not in the outbound queue.
    await t.db.query("INSERT INTO deliveries (mail_id, recipient, status) VALUES ($1, 'local@local.test', 'queued')", [a.id]);

    const live = await listOutbound(t.db);
    const mine = (rows: { mailId: string; recipient: string }[]) => rows.filter((r) => [a.id, b.id, c.id].includes(r.mailId)).map((r) => r.recipient);
    assert.deepEqual(mine(live), ["v@list-a.test", "y@list-b.test", "x@list-a.test"]);
    const y = live.find((r) => r.recipient === "y@list-b.test")!;
    assert.equal(y.status, "deferred");
    assert.equal(y.attempts, 2);
    assert.equal(y.lastError, "451 4.7.1 greylisted");
    assert.equal(y.nextAttemptAt?.getTime(), later.getTime());
    assert.equal(y.sender, "alice@local.test");
    assert.equal(y.domain, "list-b.test");
    assert.equal(y.inFlight, false);
    assert.equal(live.find((r) => r.recipient === "v@list-a.test")!.inFlight, true);

    assert.deepEqual(mine(await listOutbound(t.db, { statuses: "all" })), ["v@list-a.test", "w@list-a.test", "z@list-a.test", "y@list-b.test", "x@list-a.test"]);
    assert.deepEqual(mine(await listOutbound(t.db, { statuses: ["delivered", "bounced"] })), ["w@list-a.test", "z@list-a.test"]);
    const delivered = (await listOutbound(t.db, { statuses: ["delivered"] })).find((r) => r.mailId === b.id)!;
    assert.deepEqual([delivered.remoteHost, delivered.remoteReply], ["mx.list-a.test [127.0.0.1]", "250 2.0.0 ok"]);
    assert.deepEqual(mine(await listOutbound(t.db, { statuses: "all", domain: "LIST-A.test." })), ["v@list-a.test", "w@list-a.test", "z@list-a.test", "x@list-a.test"]);

    const page1 = await listOutbound(t.db, { statuses: "all", domain: "list-a.test", limit: 2 });
    assert.deepEqual(page1.map((r) => r.recipient), ["v@list-a.test", "w@list-a.test"]);
    const page2 = await listOutbound(t.db, { statuses: "all", domain: "list-a.test", limit: 2, before: page1[1]!.cursor });
    assert.deepEqual(page2.map((r) => r.recipient), ["z@list-a.test", "x@list-a.test"]);
    assert.deepEqual(await listOutbound(t.db, { statuses: "all", domain: "list-a.test", before: page2[1]!.cursor }), []);
  });

  test("summary: counts by status and the domains with the most waiting recipients", async () => {
    const before = await outboundSummary(t.db, { topDomains: 100 });
    await outbound([{ rcpt: "d@stuck.test", status: "deferred", attempts: 1, lastError: "451 earlier error" }, { rcpt: "e@fine.test", status: "delivered", attempts: 1 }]);
    await outbound([{ rcpt: "a@stuck.test", status: "deferred", attempts: 3, lastError: "421 4.3.2 try later" }, { rcpt: "b@stuck.test" }, { rcpt: "c@stuck.test", sending: true }]);
    const s = await outboundSummary(t.db, { topDomains: 100 });
    assert.equal(s.counts.deferred - before.counts.deferred, 2);
    assert.equal(s.counts.queued - before.counts.queued, 2);
    assert.equal(s.counts.delivered - before.counts.delivered, 1);
    assert.equal(s.counts.bounced - before.counts.bounced, 0);
    assert.equal(s.inFlight - before.inFlight, 1);
    const stuck = s.domains.find((d) => d.domain === "stuck.test")!;
    assert.deepEqual({ ...stuck, oldestCreatedAt: undefined }, { domain: "stuck.test", waiting: 4, queued: 2, deferred: 2, inFlight: 1, lastError: "421 4.3.2 try later", oldestCreatedAt: undefined });
    assert.ok(stuck.oldestCreatedAt instanceof Date);
    assert.equal(s.domains.some((d) => d.domain === "fine.test"), false, "nothing waits for fine.test");
    assert.equal(s.domains[0]!.domain, "stuck.test", "the domain with the most waiting recipients comes first");
    assert.equal((await outboundSummary(t.db, { topDomains: 1 })).domains.length, 1);
  });

  test("get: the message with its envelope and every remote recipient; null when unknown", async () => {
    const m = await outbound([{ rcpt: "one@show.test", status: "delivered", attempts: 1 }, { rcpt: "two@show.test", status: "deferred", attempts: 1, lastError: "451 later" }]);
    const got = (await getOutbound(t.db, m.id))!;
    assert.equal(got.mailId, m.id);
    assert.equal(got.source, "submission");
    assert.equal(got.sender, "alice@local.test");
    assert.equal(got.size, 4321);
    assert.deepEqual(got.envelope, { smtpUtf8: false, body: "8BITMIME", dsn: { ret: "HDRS", envid: "env-1", rcpt: {} } });
    assert.ok(got.expiresAt.getTime() > got.receivedAt.getTime());
    assert.deepEqual(got.recipients.map((r) => [r.recipient, r.status]), [["one@show.test", "delivered"], ["two@show.test", "deferred"]]);
    assert.equal(await getOutbound(t.db, newMailId()), null);
  });

  test("retry: waiting recipients become due, lease given up; events to publish; in-flight and final ones untouched", async () => {
    const later = new Date(Date.now() + 3_600_000);
    const m = await outbound([
      { rcpt: "d@retry.test", status: "deferred", attempts: 2, lastError: "451 later", nextAttemptAt: later, lease: "delivery-7" },
      { rcpt: "q@retry.test" },
      { rcpt: "s@retry.test", status: "deferred", attempts: 1, nextAttemptAt: later, sending: true, lease: "delivery-7" },
      { rcpt: "ok@retry.test", status: "delivered", attempts: 1 },
    ]);
    const r = await retryOutbound(t.db, m.id);
    assert.equal(r.outcome, "done");
    if (r.outcome !== "done") return;
    assert.deepEqual(r.recipients.map((x) => x.recipient), ["d@retry.test", "q@retry.test"]);
    assert.deepEqual(r.value.map((e) => [e.id, e.rcpt, e.attempt]), [[m.id, "d@retry.test", 2], [m.id, "q@retry.test", 0]]);
    for (const e of r.value) assert.deepEqual(deliveryRetry.parse(e), e, "a valid deliveryRetry event");

    const rows = await t.db.query<{ recipient: string; due: boolean; lease_owner: string | null; next_attempt_at: Date | null; status: string }>(
      "SELECT recipient, next_attempt_at <= now() AS due, lease_owner, next_attempt_at, status FROM deliveries WHERE mail_id = $1 ORDER BY id",
      [m.id],
    );
    const by = Object.fromEntries(rows.rows.map((x) => [x.recipient, x]));
    assert.deepEqual([by["d@retry.test"]!.due, by["d@retry.test"]!.lease_owner, by["d@retry.test"]!.status], [true, null, "deferred"]);
    assert.equal(by["q@retry.test"]!.due, true);
    assert.equal(r.value[0]!.notBefore, by["d@retry.test"]!.next_attempt_at!.toISOString());
    // The recipient being sent right now keeps its lease and schedule.
    assert.deepEqual([by["s@retry.test"]!.lease_owner, by["s@retry.test"]!.next_attempt_at?.getTime()], ["delivery-7", later.getTime()]);

    const one = await retryOutbound(t.db, m.id, { recipient: "Q@retry.test" });
    assert.equal(one.outcome, "done");
    if (one.outcome === "done") assert.deepEqual(one.value.map((e) => e.rcpt), ["q@retry.test"]);
    assert.deepEqual(await retryOutbound(t.db, m.id, { recipient: "ok@retry.test" }), { outcome: "nothing_waiting" });
    assert.deepEqual(await retryOutbound(t.db, m.id, { recipient: "nobody@retry.test" }), { outcome: "not_found" });
    assert.deepEqual(await retryOutbound(t.db, newMailId()), { outcome: "not_found" });
    const done = await outbound([{ rcpt: "x@retry.test", status: "bounced", attempts: 1 }]);
    assert.deepEqual(await retryOutbound(t.db, done.id), { outcome: "nothing_waiting" });
  });

  test("delete: waiting recipients become deleted; the blob reference is given back once none waits", async () => {
    const m = await outbound([
      { rcpt: "a@del.test", status: "deferred", attempts: 1, lastError: "451 later", nextAttemptAt: new Date(Date.now() + 60_000), lease: "delivery-2" },
      { rcpt: "b@del.test" },
      { rcpt: "c@del.test", status: "delivered", attempts: 1, remoteReply: "250 ok" },
    ]);
    assert.equal(await refcount(m.blobKey), 1);

    const one = await deleteOutbound(t.db, m.id, { recipient: "a@del.test" });
    assert.equal(one.outcome, "done");
    if (one.outcome === "done") {
      assert.deepEqual(one.recipients.map((r) => [r.recipient, r.status, r.lastError]), [["a@del.test", "deleted", DELETED_BY_OPERATOR]]);
      assert.deepEqual(one.value, { released: false });
    }
    assert.equal(await refcount(m.blobKey), 1, "b@del.test still waits");
    const a = await t.db.query<{ lease_owner: string | null; lease_expires: Date | null; next_attempt_at: Date | null }>(
      "SELECT lease_owner, lease_expires, next_attempt_at FROM deliveries WHERE mail_id = $1 AND recipient = 'a@del.test'",
      [m.id],
    );
    assert.deepEqual(a.rows[0], { lease_owner: null, lease_expires: null, next_attempt_at: null });
    assert.deepEqual(await deleteOutbound(t.db, m.id, { recipient: "a@del.test" }), { outcome: "nothing_waiting" });

    const rest = await deleteOutbound(t.db, m.id);
    assert.equal(rest.outcome, "done");
    if (rest.outcome === "done") {
      assert.deepEqual(rest.recipients.map((r) => r.recipient), ["b@del.test"]);
      assert.deepEqual(rest.value, { released: true });
    }
    assert.equal(await refcount(m.blobKey), 0);
    const holds = await t.db.query<{ holds_blob: boolean }>("SELECT holds_blob FROM outbound_messages WHERE mail_id = $1", [m.id]);
    assert.equal(holds.rows[0]!.holds_blob, false);
    const statuses = (await getOutbound(t.db, m.id))!.recipients.map((r) => [r.recipient, r.status]);
    assert.deepEqual(statuses, [["a@del.test", "deleted"], ["b@del.test", "deleted"], ["c@del.test", "delivered"]]);
    // No DSN: nothing new was queued for the sender.
    assert.equal((await listOutbound(t.db, { statuses: "all", domain: "local.test" })).length, 0);

    assert.deepEqual(await deleteOutbound(t.db, m.id), { outcome: "nothing_waiting" });
    assert.deepEqual(await deleteOutbound(t.db, newMailId()), { outcome: "not_found" });
    assert.deepEqual(await deleteOutbound(t.db, m.id, { recipient: "zz@del.test" }), { outcome: "not_found" });
  });
});
