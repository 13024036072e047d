import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { seedDirectory } from "./harness.ts";
import { clusterEnv, createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from "@postline/testkit";

// src/main.ts as its own process in cluster mode (PostgreSQL, Kafka, MinIO), driven by swaks.

let t: TestDatabase;
let proc: ServiceProcess;

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  proc = await startServiceProcess(
    "inbound-mx",
    clusterEnv(t.url, {
      POSTLINE_MX_HOST: "127.0.0.1",
      POSTLINE_MX_PORT: "0",
      POSTLINE_HOSTNAME: "mx.example.test",
      POSTLINE_MX_REVERSE_DNS: "false",
      POSTLINE_SESSION_REJECT_SPF_DMARC: "false",
    }),
  );
});
after(async () => {
  await proc?.stop("SIGKILL");
  await t?.drop();
});

function swaks(args: string[]): Promise<string> {
  return new Promise((resolve) => execFile("swaks", args, { timeout: 60_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`)));
}

test("the process accepts mail over STARTTLS, refuses relaying, and stops cleanly on SIGTERM", async () => {
  const port = new URL(proc.listening["inbound-mx"]!.smtp!).port;
  const ok = await swaks(["--server", `127.0.0.1:${port}`, "--from", "a@example.org", "--to", "user@example.test", "--tls", "--helo", "swaks.example.org"]);
  assert.match(ok, /<~\s+250 2\.0\.0 Ok: queued as [0-9A-Z]{26}/, ok);
  const relay = await swaks(["--server", `127.0.0.1:${port}`, "--from", "a@example.org", "--to", "someone@elsewhere.example", "--helo", "swaks.example.org"]);
  assert.match(relay, /<\*\* 554 5\.7\.1 /, relay);
  assert.ok(proc.logs.some((l) => l.msg === "message accepted" && typeof l.mailId === "string"), "the accepted message is logged with its mailId");
  const ready = await fetch(`${proc.ops}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal(await proc.stop("SIGTERM"), 0);
});
