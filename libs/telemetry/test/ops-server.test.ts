import { test } from "node:test";
import assert from "node:assert/strict";
import { Counter } from "prom-client";
import { buildOpsServer, metricsRegistry } from "@postline/telemetry";

test("healthz answers while a dependency is down; readyz names the failing check", async () => {
  let dbUp = false;
  const app = buildOpsServer({
    registry: metricsRegistry(),
    checks: {
      db: async () => {
        if (!dbUp) throw new Error("connection refused");
      },
      bus: async () => {},
    },
  });
  assert.equal((await app.inject("/healthz")).statusCode, 200);
  const down = await app.inject("/readyz");
  assert.equal(down.statusCode, 503);
  assert.deepEqual(down.json().checks, { db: "connection refused", bus: "ok" });
  dbUp = true;
  const up = await app.inject("/readyz");
  assert.equal(up.statusCode, 200);
  assert.equal(up.json().status, "ready");
  await app.close();
});

test("readyz fails a check that hangs instead of hanging itself", async () => {
  const app = buildOpsServer({ registry: metricsRegistry(), checks: { stuck: () => new Promise(() => {}) }, checkTimeoutMs: 100 });
  const r = await app.inject("/readyz");
  assert.equal(r.statusCode, 503);
  assert.match(r.json().checks.stuck, /timed out/);
  await app.close();
});

test("a draining server is not ready", async () => {
  const app = buildOpsServer({ registry: metricsRegistry(), checks: {} });
  assert.equal((await app.inject("/readyz")).statusCode, 200);
  (app as unknown as { drain(): void }).drain();
  assert.equal((await app.inject("/readyz")).statusCode, 503);
  await app.close();
});

test("metrics exposes default process metrics and service counters in Prometheus format", async () => {
  const registry = metricsRegistry();
  const c = new Counter({ name: "postline_test_events_total", help: "test", labelNames: ["kind"], registers: [registry] });
  c.inc({ kind: "a" }, 3);
  const app = buildOpsServer({ registry, checks: {} });
  const r = await app.inject("/metrics");
  assert.equal(r.statusCode, 200);
  assert.match(r.headers["content-type"] as string, /text\/plain/);
  assert.match(r.body, /postline_test_events_total\{kind="a"\} 3/);
  assert.match(r.body, /postline_process_resident_memory_bytes/);
  await app.close();
});
