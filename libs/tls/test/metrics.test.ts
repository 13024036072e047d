import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { parseConfig, platformSchema } from "@postline/config";
import { createLogger } from "@postline/telemetry";
import { certificateFor, selfSignedKeyPair, watchCertificateFiles } from "../src/index.ts";

const logger = createLogger("tls-test", "silent");

async function expiries(registry: Registry): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric("postline_tls_certificate_expiry_timestamp_seconds");
  assert.ok(metric);
  return Object.fromEntries((await metric.get()).values.map((v) => [`${v.labels.service}/${v.labels.listener}`, v.value]));
}

const notAfter = (pem: string) => Math.floor(Date.parse(new X509Certificate(pem).validTo) / 1000);

test("the expiry gauge is the notAfter of the certificate each listener serves, at load and after a reload", async () => {
  const dir = await mkdtemp(join(tmpdir(), "postline-tls-"));
  try {
    const certPath = join(dir, "cert.pem");
    const keyPath = join(dir, "key.pem");
    const first = await selfSignedKeyPair("mail.example.test", 10);
    await writeFile(certPath, first.cert);
    await writeFile(keyPath, first.key);
    const registry = new Registry();
    const config = { ...parseConfig(platformSchema, {}), POSTLINE_MODE: "cluster" as const };
    const cert = await certificateFor(
      { certPath, keyPath, hostname: "mail.example.test", stem: "submission", expiry: { registry, service: "submission", listeners: ["submission", "submissions"] } },
      config,
      logger,
    );
    const firstNotAfter = notAfter(first.cert);
    assert.ok(Math.abs(firstNotAfter - (Date.now() / 1000 + 10 * 86_400)) < 600, "10 days from now");
    assert.deepEqual(await expiries(registry), { "submission/submission": firstNotAfter, "submission/submissions": firstNotAfter });

    const applied: string[] = [];
    const reloads: string[] = [];
    const watcher = watchCertificateFiles(cert, { intervalMs: 3_600_000, logger, reloads: { inc: ({ result }) => void reloads.push(result) }, apply: (p) => void applied.push(p.cert) });
    assert.ok(watcher);
    try {
      const renewed = await selfSignedKeyPair("mail.example.test", 90);
      await writeFile(keyPath, renewed.key);
      await writeFile(certPath, renewed.cert);
      assert.equal(await watcher.check(), true);
      assert.deepEqual(reloads, ["ok"]);
      const renewedNotAfter = notAfter(renewed.cert);
      assert.ok(renewedNotAfter > firstNotAfter + 70 * 86_400);
      assert.deepEqual(await expiries(registry), { "submission/submission": renewedNotAfter, "submission/submissions": renewedNotAfter });

      // A half-written pair (key of the old one) is not served, so the gauge stays.
      await writeFile(keyPath, first.key);
      assert.equal(await watcher.check(), false);
      assert.deepEqual(await expiries(registry), { "submission/submission": renewedNotAfter, "submission/submissions": renewedNotAfter });
    } finally {
      watcher.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a generated certificate (no files) is recorded too", async () => {
  const registry = new Registry();
  const config = { ...parseConfig(platformSchema, {}), POSTLINE_MODE: "cluster" as const };
  const cert = await certificateFor({ hostname: "mx.example.test", stem: "mx", expiry: { registry, service: "inbound-mx", listeners: ["smtp"] } }, config, logger);
  assert.deepEqual(await expiries(registry), { "inbound-mx/smtp": notAfter(cert.pair.cert) });
});
