import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { message, session, startWorld, transaction, type World } from "./harness.ts";

let w: World;
before(async () => {
  w = await startWorld();
});
after(async () => {
  await w?.close();
});

test("the bus failing: 451 4.3.0 (never 250), and the hourly slot is given back", async () => {
  const { c } = await session(w.port);
  await w.events.stop();
  await w.bus.close(); // publishing now fails
  const r = await transaction(c, { from: "user@example.test", to: ["a@remote.example"], message: message("user@example.test") });
  assert.match(r.raw, /^451 4\.3\.0 /);
  const n = await w.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM submission_log");
  assert.equal(n.rows[0]!.n, 0);
  const published = await w.t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM bus_records WHERE topic = 'mail.submitted'");
  assert.equal(published.rows[0]!.n, 0);
  await c.quit();
});
