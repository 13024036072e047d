import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createTestDatabase, testInfra, type TestDatabase } from "@postline/testkit";

// The admin API as its own process in cluster mode, configured from the environment.
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const TOKEN = "main-test-token-0123456789";

let t: TestDatabase;
before(async () => {
  t = await createTestDatabase({ migrated: false });
});
after(async () => {
  await t.drop();
});

function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  const infra = testInfra();
  return {
    PATH: process.env.PATH ?? "",
    POSTLINE_MODE: "cluster",
    POSTLINE_DATABASE_URL: t.url,
    POSTLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    POSTLINE_S3_ENDPOINT: infra.s3.endpoint,
    POSTLINE_S3_ACCESS_KEY: infra.s3.accessKey,
    POSTLINE_S3_SECRET_KEY: infra.s3.secretKey,
    POSTLINE_ADMIN_PORT: "0",
    ...extra,
  };
}

test("starts from config, migrates, serves /readyz and /v1, stops cleanly on SIGTERM", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], { cwd: REPO, env: clusterEnv({ POSTLINE_ADMIN_TOKEN: TOKEN }), stdio: ["ignore", "pipe", "inherit"] });
  try {
    let url: string | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const entry = JSON.parse(line) as { msg?: string; url?: string; service?: string };
      if (entry.msg === "admin API listening") {
        assert.equal(entry.service, "admin-api");
        url = entry.url;
        break;
      }
    }
    assert.ok(url?.startsWith("http://127.0.0.1:"), `listening URL: ${url}`);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    assert.equal((await fetch(`${url}/v1/domains`)).status, 401);
    const created = await fetch(`${url}/v1/domains`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "main.test" }),
    });
    assert.equal(created.status, 201);
    const rows = await t.db.query("SELECT name FROM domains");
    assert.deepEqual(rows.rows, [{ name: "main.test" }], "migrated at start and wrote to the configured database");
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0);
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("refuses to start without a token", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], { cwd: REPO, env: clusterEnv(), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const [code] = await once(child, "exit");
  assert.equal(code, 78);
  assert.match(stderr, /POSTLINE_ADMIN_TOKEN/);
});
