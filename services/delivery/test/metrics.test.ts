import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { attemptResult, deliveryMetrics } from "../src/metrics.ts";

test("an attempt's result is the class of the SMTP reply, or connection when no usable reply came", () => {
  const host = "mx.remote.test [127.0.0.21]";
  const cases: [Parameters<typeof attemptResult>[0], string][] = [
    [{ recipient: "a@r.test", kind: "delivered", reply: "250 2.0.0 Ok: queued", host, remoteSupportsDsn: true }, "2xx"],
    [{ recipient: "a@r.test", kind: "temporary", status: "4.2.2", error: "452 4.2.2 mailbox full", host }, "4xx"],
    [{ recipient: "a@r.test", kind: "temporary", status: "4.0.0", error: "421 Service not available", host }, "4xx"],
    [{ recipient: "a@r.test", kind: "permanent", status: "5.1.1", error: "550 5.1.1 <a@r.test>: no such user", host }, "5xx"],
    // Transport failures without a reply (transport/remote-transport.ts): 4.4.x
    [{ recipient: "a@r.test", kind: "temporary", status: "4.4.1", error: "connect ECONNREFUSED 127.0.0.1:25" }, "connection"],
    [{ recipient: "a@r.test", kind: "temporary", status: "4.4.2", error: `connection to ${host} lost during the message: timeout`, host }, "connection"],
    [{ recipient: "a@r.test", kind: "temporary", status: "4.4.3", error: "DNS lookup of r.test failed: SERVFAIL" }, "connection"],
    // Our own decisions carry the class of their status.
    [{ recipient: "a@r.test", kind: "permanent", status: "5.1.10", error: "domain r.test has a null MX (RFC 7505): it accepts no mail" }, "5xx"],
    [{ recipient: "a@r.test", kind: "temporary", status: "4.3.0", error: "could not read the message: gone", host }, "4xx"],
  ];
  for (const [outcome, expected] of cases) assert.equal(attemptResult(outcome), expected, JSON.stringify(outcome));
});

test("postline_delivery_remote_attempts_total is registered with its result label next to remote_recipients_total", async () => {
  const registry = new Registry();
  const m = deliveryMetrics(registry);
  m.remoteAttemptResults.inc({ result: "connection" });
  m.remoteAttemptResults.inc({ result: "2xx" }, 2);
  const values = (await registry.getSingleMetric("postline_delivery_remote_attempts_total")!.get()).values;
  assert.deepEqual(Object.fromEntries(values.map((v) => [v.labels.result, v.value])), { connection: 1, "2xx": 2 });
  assert.ok(registry.getSingleMetric("postline_delivery_remote_recipients_total"));
});
