import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { selfSignedKeyPair, type KeyPair } from "@postline/tls";
import { SmtpClient } from "./smtp-client.ts";
import { localAdapters, seedDirectory, startMx, type LocalAdapters } from "./harness.ts";

let t: TestDatabase;
let adapters: LocalAdapters;
let dir: string;

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  adapters = await localAdapters(t.db);
  dir = await mkdtemp(join(tmpdir(), "postline-mx-tls-"));
});
after(async () => {
  await adapters?.close();
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** The SHA-256 fingerprint of the certificate a new STARTTLS session is shown. */
async function servedFingerprint(port: number): Promise<string> {
  const c = await SmtpClient.connect(port);
  assert.equal((await c.read()).code, 220);
  await c.command("EHLO client.example.org");
  assert.equal((await c.command("STARTTLS")).code, 220);
  const tls = await c.startTls();
  const fp = tls.getPeerX509Certificate()!.fingerprint256;
  assert.equal((await c.command("EHLO client.example.org")).code, 250);
  await c.quit();
  return fp;
}

const fingerprint = (pair: KeyPair) => new X509Certificate(pair.cert).fingerprint256;

/** Writes the pair the way cert-manager and kubelet do: new files renamed over the old ones. */
async function install(pair: KeyPair, certPath: string, keyPath: string): Promise<void> {
  await writeFile(`${keyPath}.new`, pair.key);
  await writeFile(`${certPath}.new`, pair.cert);
  await rename(`${keyPath}.new`, keyPath);
  await rename(`${certPath}.new`, certPath);
}

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("certificate from files", () => {
  test("replaced files are picked up without a restart: new connections see the new certificate; a broken pair is ignored", async () => {
    const certPath = join(dir, "tls.crt");
    const keyPath = join(dir, "tls.key");
    const first = await selfSignedKeyPair("mx.example.test");
    const second = await selfSignedKeyPair("mx.example.test");
    await install(first, certPath, keyPath);
    const mx = await startMx(
      { db: t.db, bus: adapters.bus, blobs: adapters.blobs },
      { POSTLINE_TLS_CERT: certPath, POSTLINE_TLS_KEY: keyPath, POSTLINE_TLS_RELOAD_INTERVAL_MS: "100" },
      { mode: "cluster" },
    );
    try {
      assert.equal(await servedFingerprint(mx.port), fingerprint(first));

      await install(second, certPath, keyPath);
      await eventually(async () => (await servedFingerprint(mx.port)) === fingerprint(second));

      // the certificate renewed but the key not (yet): keep serving the last good pair
      const third = await selfSignedKeyPair("mx.example.test");
      await writeFile(certPath, third.cert);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await servedFingerprint(mx.port), fingerprint(second));
      await writeFile(keyPath, third.key);
      await eventually(async () => (await servedFingerprint(mx.port)) === fingerprint(third));

      const metrics = await mx.registry.metrics();
      assert.match(metrics, /postline_inbound_mx_tls_reloads_total\{result="ok"\} 2/);
      // a poll may also land between the two renames of an install (new key, old certificate):
      // that pair is refused too, so "failed" counts at least the deliberate broken pair
      const failed = Number(/postline_inbound_mx_tls_reloads_total\{result="failed"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      assert.ok(failed >= 1, `failed reloads: ${failed}`);
    } finally {
      await mx.stop();
    }
  });

  test("only one of POSTLINE_TLS_CERT and POSTLINE_TLS_KEY is a configuration error", async () => {
    await assert.rejects(startMx({ db: t.db, bus: adapters.bus, blobs: adapters.blobs }, { POSTLINE_TLS_CERT: join(dir, "tls.crt") }), /POSTLINE_TLS_KEY: is required/);
  });
});

describe("no certificate configured", () => {
  test("standalone: a self-signed certificate is generated in <data>/tls, served, and reused on the next start", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "postline-mx-data-"));
    try {
      const mx = await startMx({ db: t.db, bus: adapters.bus, blobs: adapters.blobs }, {}, { dataDir });
      const certPath = join(dataDir, "tls", "mx-cert.pem");
      const keyPath = join(dataDir, "tls", "mx-key.pem");
      let fp: string;
      try {
        assert.ok(existsSync(certPath) && existsSync(keyPath));
        assert.equal(statSync(keyPath).mode & 0o777, 0o600);
        const cert = new X509Certificate(await readFile(certPath));
        assert.equal(cert.checkHost("mx.example.test"), "mx.example.test");
        fp = await servedFingerprint(mx.port);
        assert.equal(fp, cert.fingerprint256);
      } finally {
        await mx.stop();
      }
      const again = await startMx({ db: t.db, bus: adapters.bus, blobs: adapters.blobs }, {}, { dataDir });
      try {
        assert.equal(await servedFingerprint(again.port), fp);
      } finally {
        await again.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test("cluster: STARTTLS still works, with a certificate made at start-up and nothing written", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "postline-mx-data-"));
    try {
      const mx = await startMx({ db: t.db, bus: adapters.bus, blobs: adapters.blobs }, {}, { mode: "cluster", dataDir });
      try {
        assert.match(await servedFingerprint(mx.port), /^[0-9A-F:]{95}$/);
        assert.ok(!existsSync(join(dataDir, "tls")));
      } finally {
        await mx.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
