import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createSecureContext } from "node:tls";
import { Registry } from "prom-client";
import { FsBlobStore } from "@postline/blobstore";
import { addDomain, createAccount } from "@postline/directory";
import { createLogger } from "@postline/telemetry";
import { selfSignedKeyPair } from "@postline/tls";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { createAuthenticator } from "@postline/auth";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChangeNotifier } from "../src/imap/server/core/op.ts";
import { startPop3Listeners, type Pop3Listeners } from "../src/pop3/index.ts";
import { Pop3TestClient } from "./pop3-client.ts";

const PASSWORD = "secret-password";
const logger = createLogger("pop3-metrics-test", "silent");
const notifier: ChangeNotifier = { watch: () => () => undefined, async announce() {} };

let t: TestDatabase;
let dir: string;
let registry: Registry;
let listeners: Pop3Listeners;

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "example.test");
  await createAccount(t.db, { address: "pop@example.test", password: PASSWORD });
  dir = await mkdtemp(join(tmpdir(), "pop3-metrics-"));
  const blobs = await FsBlobStore.open(join(dir, "blobs"));
  const pair = await selfSignedKeyPair("localhost", 2);
  const context = createSecureContext({ key: pair.key, cert: pair.cert });
  registry = new Registry();
  const authenticator = createAuthenticator({ db: t.db, logger, registry, env: {} });
  listeners = await startPop3Listeners({
    db: t.db,
    blobs,
    logger,
    registry,
    authenticator,
    notifier,
    tls: { current: () => context },
    env: { POSTLINE_POP3_HOST: "127.0.0.1", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0", POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true" },
  });
});

after(async () => {
  await listeners?.stop(100);
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function values(name: string): Promise<{ labels: Partial<Record<string, string | number>>; value: number; metricName?: string }[]> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  return (await metric.get()).values;
}

test("POP3 has its own metrics: sessions, commands with latency, auth failures by reason", async () => {
  const c = await Pop3TestClient.connect(Number(new URL(listeners.listening.pop3!).port));
  assert.match(await c.line(), /^\+OK/);
  assert.equal((await values("postline_pop3_sessions_active"))[0]!.value, 1);
  assert.match(await c.command("USER pop@example.test"), /^\+OK/);
  assert.match(await c.command("PASS wrong"), /^-ERR/);
  assert.match(await c.command("USER pop@example.test"), /^\+OK/);
  assert.match(await c.command(`PASS ${PASSWORD}`), /^\+OK/);
  assert.match(await c.command("STAT"), /^\+OK/);
  assert.match(await c.command("XYZZY"), /^-ERR/);
  assert.match(await c.command("QUIT"), /^\+OK/);

  assert.equal((await values("postline_pop3_sessions_total"))[0]!.value, 1);
  assert.deepEqual(
    (await values("postline_pop3_auth_failures_total")).map((v) => [v.labels.reason, v.value]),
    [["invalid", 1]],
  );
  const counts = Object.fromEntries(
    (await values("postline_pop3_command_seconds")).filter((v) => v.metricName === "postline_pop3_command_seconds_count").map((v) => [v.labels.command, v.value]),
  );
  assert.deepEqual(counts, { USER: 2, PASS: 2, STAT: 1, QUIT: 1 }, "known commands are timed; unknown ones only counted");
  const commands = Object.fromEntries((await values("postline_pop3_commands_total")).map((v) => [v.labels.command, v.value]));
  assert.equal(commands.unknown, 1);
  // IMAP's metrics are separate; none of these went there.
  assert.equal(registry.getSingleMetric("postline_imap_auth_failures_total"), undefined);
});
