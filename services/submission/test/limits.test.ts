import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { message, queueIdOf, session, startWorld, transaction, type World } from "./harness.ts";

let w: World;
before(async () => {
  w = await startWorld({ POSTLINE_SUBMISSION_MAX_SIZE: "2000", POSTLINE_SUBMISSION_MAX_RECIPIENTS: "3", POSTLINE_SUBMISSION_MAX_PER_HOUR: "2" });
});
after(async () => {
  await w?.close();
});

async function submittedCount(): Promise<number> {
  const r = await w.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM bus_records WHERE topic = 'mail.submitted'");
  return r.rows[0]!.n;
}

test("SIZE is advertised; a message over it gets 552 5.3.4 and is not published", async () => {
  const { c } = await session(w.port, "writer@signed.test");
  const ehlo = await c.command("EHLO client.example.org");
  assert.ok(ehlo.lines.includes("SIZE 2000"), ehlo.raw);
  const before = await submittedCount();
  const r = await transaction(c, { from: "writer@signed.test", to: ["a@remote.example"], message: message("writer@signed.test", "", `${"x".repeat(70)}\r\n`.repeat(40)) });
  assert.match(r.raw, /^552 5\.3\.4 /);
  assert.equal(await submittedCount(), before);
  // The session goes on: a small message is accepted (and uses one of writer's two per hour).
  const ok = await transaction(c, { from: "writer@signed.test", to: ["a@remote.example"], message: message("writer@signed.test") });
  assert.match(ok.raw, /^250 2\.0\.0 /);
  await c.quit();
});

test("more recipients than allowed: 452 4.5.3 for the extra ones", async () => {
  const { c } = await session(w.port, "other@example.test");
  assert.equal((await c.command("MAIL FROM:<other@example.test>")).code, 250);
  for (const n of [1, 2, 3]) assert.equal((await c.command(`RCPT TO:<r${n}@remote.example>`)).code, 250);
  const r = await c.command("RCPT TO:<r4@remote.example>");
  assert.match(r.raw, /^452 4\.5\.3 /);
  assert.equal((await c.command("DATA")).code, 354);
  const done = await c.data(message("other@example.test"));
  const e = await w.events.waitFor(queueIdOf(done.raw));
  assert.equal(e.envelope.rcptTo.length, 3);
  await c.quit();
});

test("hourly limit: the third message of an hour gets 451 4.7.1 at MAIL FROM; the count is the database's", async () => {
  const { c } = await session(w.port);
  for (let i = 0; i < 2; i++) {
    const r = await transaction(c, { from: "user@example.test", to: ["a@remote.example"], message: message("user@example.test") });
    assert.match(r.raw, /^250 2\.0\.0 /);
  }
  const third = await c.command("MAIL FROM:<user@example.test>");
  assert.match(third.raw, /^451 4\.7\.1 /);
  await c.quit();
  // Another account is not affected; and once the rows are older than an hour, user may send again.
  await w.t.db.query("UPDATE submission_log SET submitted_at = now() - interval '61 minutes' WHERE account_id = (SELECT id FROM accounts WHERE address = 'user@example.test')");
  const again = await session(w.port);
  assert.match((await transaction(again.c, { from: "user@example.test", to: ["a@remote.example"], message: message("user@example.test") })).raw, /^250 2\.0\.0 /);
  await again.c.quit();
});

test("hourly limit, two sessions racing for the last slot: one 250, one 451 4.7.1 at the end of DATA", async () => {
  // user has used 1 of 2 in this hour (previous test); both sessions pass MAIL FROM.
  const a = await session(w.port);
  const b = await session(w.port);
  for (const s of [a, b]) {
    assert.equal((await s.c.command("MAIL FROM:<user@example.test>")).code, 250);
    assert.equal((await s.c.command("RCPT TO:<a@remote.example>")).code, 250);
    assert.equal((await s.c.command("DATA")).code, 354);
  }
  const replies = await Promise.all([a.c.data(message("user@example.test")), b.c.data(message("user@example.test"))]);
  const codes = replies.map((r) => r.raw.slice(0, 9)).sort();
  assert.deepEqual(codes, ["250 2.0.0", "451 4.7.1"]);
  const n = await w.t.db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM submission_log WHERE account_id = (SELECT id FROM accounts WHERE address = 'user@example.test') AND submitted_at > now() - interval '1 hour'",
  );
  assert.equal(n.rows[0]!.n, 2);
  await a.c.quit();
  await b.c.quit();
});
