import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { SessionPolicy } from "@postline/antispam";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { SmtpClient } from "./smtp-client.ts";
import { localAdapters, seedDirectory, startMx, type LocalAdapters, type Mx } from "./harness.ts";
import { commandLabel } from "../src/metrics.ts";

let t: TestDatabase;
let adapters: LocalAdapters;
let mx: Mx;

/** Refuses one sender at MAIL FROM, like a session rule would. */
const policy: SessionPolicy = {
  checkConnect: async () => null,
  checkMailFrom: async ({ mailFrom }) => (mailFrom === "spam@bad.test" ? { code: 550, enhanced: "5.7.1", message: "refused for the test", symbol: "TEST_REJECT" } : null),
};

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  adapters = await localAdapters(t.db);
  mx = await startMx({ db: t.db, bus: adapters.bus, blobs: adapters.blobs }, { POSTLINE_MX_MAX_SIZE: "2000" }, { policy });
});
after(async () => {
  await mx?.stop();
  await adapters?.close();
  await t?.drop();
});

async function rejections(): Promise<Record<string, number>> {
  const metric = mx.registry.getSingleMetric("postline_inbound_mx_rejections_total");
  assert.ok(metric);
  return Object.fromEntries((await metric.get()).values.map((v) => [String(v.labels.reason), v.value]));
}

test("refusals at every stage are counted by reason", async () => {
  const c = await SmtpClient.connect(mx.port);
  assert.equal((await c.read()).code, 220);
  assert.equal((await c.command("EHLO client.example.org")).code, 250);
  assert.equal((await c.command("MAIL FROM:<spam@bad.test>")).code, 550);
  assert.equal((await c.command("MAIL FROM:<someone@sender.test>")).code, 250);
  assert.equal((await c.command("RCPT TO:<nobody@example.test>")).code, 550);
  assert.equal((await c.command("RCPT TO:<someone@elsewhere.test>")).code, 554);
  assert.equal((await c.command("RCPT TO:<user@example.test>")).code, 250);
  assert.equal((await c.command("DATA")).code, 354);
  const big = `Subject: big\r\n\r\n${"x".repeat(100)}\r\n`.repeat(40);
  const reply = await c.command(`${big}.`);
  assert.equal(reply.code, 552, reply.raw);
  await c.quit();

  assert.deepEqual(await rejections(), { policy_TEST_REJECT: 1, unknown_user: 1, relay_denied: 1, too_large: 1 });
});

test("the certificate expiry gauge is the notAfter of the listener's certificate", async () => {
  const pem = await readFile(join(mx.dataDir, "tls", "mx-cert.pem"), "utf8");
  const metric = mx.registry.getSingleMetric("postline_tls_certificate_expiry_timestamp_seconds");
  assert.ok(metric);
  assert.deepEqual(
    (await metric.get()).values.map((v) => [v.labels.service, v.labels.listener, v.value]),
    [["inbound-mx", "smtp", Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000)]],
  );
});

test("commands are counted by their name, anything else as other", () => {
  const cases: [string, string][] = [
    ["MAIL FROM:<a@b.test>", "MAIL"],
    ["rcpt TO:<a@b.test>", "RCPT"],
    ["STARTTLS", "STARTTLS"],
    ["STARTTLSX", "other"],
    ["STARTTLSTARTTLS", "other"],
    ["NOOP\t", "NOOP"],
    ["QUIT", "QUIT"],
    [" MAIL FROM:<>", "other"],
    ["", "other"],
    ["XCLIENT NAME=x", "other"],
  ];
  for (const [line, label] of cases) {
    assert.equal(commandLabel(Buffer.from(line, "latin1")), label, line);
    assert.equal(commandLabel(line), label, line);
  }
});
