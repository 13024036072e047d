import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import type { Registry } from "prom-client";
import { session, startWorld, type World } from "./harness.ts";

let w: World;
before(async () => {
  w = await startWorld({ POSTLINE_AUTH_MAX_FAILURES_PER_IP: "1000" });
});
after(async () => {
  await w?.close();
});

async function values(registry: Registry, name: string): Promise<{ labels: Partial<Record<string, string | number>>; value: number }[]> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values;
}

const single = async (name: string) => (await values(w.registry, name))[0]?.value ?? 0;

async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("sessions are counted, open ones gauged; failed AUTH is counted by mechanism", async () => {
  const before = await single("postline_submission_sessions_total");
  const a = await session(w.port, "user@example.test", "not the password at all");
  assert.match(a.auth!.raw, /^535 /);
  const b = await session(w.port);
  assert.equal(b.auth!.code, 235);
  assert.equal(await single("postline_submission_sessions_total"), before + 2);
  assert.equal(await single("postline_submission_sessions_active"), 2);

  const login = await b.c.command("AUTH LOGIN"); // already authenticated: refused by smtp-server, not a credential failure
  assert.ok(login.code >= 500);
  const failures = await values(w.registry, "postline_submission_auth_failures_total");
  assert.deepEqual(failures.map((f) => [f.labels.mechanism, f.value]), [["PLAIN", 1]]);

  await a.c.quit();
  await b.c.quit();
  await eventually("no open sessions", async () => (await single("postline_submission_sessions_active")) === 0);
});

test("the certificate expiry gauge is the notAfter of the certificate the listeners serve", async () => {
  const served = await new Promise<string>((resolve, reject) => {
    const socket = tlsConnect({ port: w.tlsPort, host: "127.0.0.1", rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().valid_to);
      socket.destroy();
    });
    socket.once("error", reject);
  });
  const expected = Date.parse(served) / 1000;
  const gauge = await values(w.registry, "postline_tls_certificate_expiry_timestamp_seconds");
  assert.deepEqual(
    gauge.map((g) => [g.labels.service, g.labels.listener, g.value]).sort(),
    [
      ["submission", "submission", expected],
      ["submission", "submissions", expected],
    ],
  );
  assert.ok(expected > Date.now() / 1000 + 30 * 86_400);
});
