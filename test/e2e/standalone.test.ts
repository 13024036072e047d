import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { simpleMessage, smtpTransaction } from "@postline/testkit";

// README command 1: `pnpm start` gives a running standalone platform whose admin API answers.
const REPO = fileURLToPath(new URL("../../", import.meta.url));
const CLI = join(REPO, "services/cli/src/main.ts");
const dataDir = mkdtempSync(join(tmpdir(), "postline-standalone-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", POSTLINE_DATA_DIR: dataDir, POSTLINE_ADMIN_PORT: "0", POSTLINE_OPS_PORT: "0", POSTLINE_MX_PORT: "0",
  POSTLINE_IMAP_PORT: "0", POSTLINE_IMAPS_PORT: "0", POSTLINE_POP3_PORT: "0", POSTLINE_POP3S_PORT: "0",
  POSTLINE_SUBMISSION_PORT: "0", POSTLINE_SUBMISSIONS_PORT: "0" };

interface Ready {
  ops: string;
  services: Record<string, Record<string, string>>;
}

async function startPlatform(): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "start"], { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string } & Ready;
    if (entry.msg === "ready") {
      assert.match(stderr, /Postline is running \(standalone mode/);
      return { child, ready: { ops: entry.ops, services: entry.services } };
    }
  }
  throw new Error(`the platform exited before it was ready: ${stderr}`);
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = await exited;
  return code as number | null;
}

/** curl's output, "" when the transfer failed (the standalone certificate is self-signed: -k). */
function curl(args: string[]): string {
  const r = spawnSync("curl", ["-s", "-k", "--max-time", "10", ...args], { encoding: "utf8" });
  return r.status === 0 ? r.stdout : "";
}

function cli(args: string[], extra: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO, env: { ...env, ...extra }, encoding: "utf8" });
}

test("standalone platform: admin API, ops endpoints, CLI through the API, clean stop, data kept", async () => {
  const { child, ready } = await startPlatform();
  try {
    const admin = ready.services["admin-api"]!.http!;
    const tokenFile = join(dataDir, "admin-token");
    assert.equal(statSync(tokenFile).mode & 0o777, 0o600, "the generated token is private to its owner");
    const token = readFileSync(tokenFile, "utf8").trim();
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };

    assert.equal((await fetch(`${admin}/v1/domains`)).status, 401);
    const created = await fetch(`${admin}/v1/domains`, { method: "POST", headers: auth, body: JSON.stringify({ name: "standalone.test" }) });
    assert.equal(created.status, 201);

    const readyz = await fetch(`${ready.ops}/readyz`);
    assert.equal(readyz.status, 200);
    assert.deepEqual(((await readyz.json()) as { checks: unknown }).checks, { db: "ok", bus: "ok", blobs: "ok", smtp: "ok", submission: "ok", imap: "ok" });
    const metrics = await (await fetch(`${ready.ops}/metrics`)).text();
    assert.match(metrics, /postline_process_resident_memory_bytes/);

    // The running platform holds the database: direct access is refused with the way round it.
    const direct = cli(["domain", "list"]);
    assert.equal(direct.status, 1);
    assert.match(direct.stderr, new RegExp(`set POSTLINE_ADMIN_URL=${admin.replace(/[.:/]/g, "\\$&")}`));

    const viaApi = { POSTLINE_ADMIN_URL: admin, POSTLINE_ADMIN_TOKEN: token };
    const add = cli(["user", "add", "alice@standalone.test", "--password", "correct horse battery"], viaApi);
    assert.equal(add.status, 0, add.stderr);
    const list = cli(["--json", "user", "list"], viaApi);
    assert.equal(list.status, 0, list.stderr);
    assert.deepEqual(
      (JSON.parse(list.stdout) as { address: string }[]).map((a) => a.address),
      ["alice@standalone.test"],
    );

    // Mail through the MX, read back over IMAP (STARTTLS) and POP3 (implicit TLS) with curl.
    const message = simpleMessage({ from: "someone@example.net", to: "alice@standalone.test", subject: "standalone", body: "Read me over IMAP.\r\n" });
    const sent = await smtpTransaction(Number(new URL(ready.services["inbound-mx"]!.smtp!).port), { from: "someone@example.net", to: ["alice@standalone.test"], data: message });
    assert.equal(sent.final.code, 250, sent.final.text);
    const login = ["-u", "alice@standalone.test:correct horse battery"];
    const imap = ready.services["imap-pop3"]!;
    let fetched = "";
    for (let i = 0; i < 100 && !fetched.includes("Read me over IMAP."); i++) {
      if (i > 0) await sleep(200);
      fetched = curl(["--ssl-reqd", ...login, `${imap.imap}/INBOX;UID=1`]);
    }
    assert.ok(fetched.endsWith(message), `IMAP returned ${JSON.stringify(fetched.slice(-200))}`);
    assert.ok(curl([...login, `${imap.pop3s}/1`]).endsWith(message));
  } finally {
    assert.equal(await stop(child), 0, "SIGTERM stops the platform cleanly");
  }
  assert.equal(existsSync(join(dataDir, "db.lock")), false, "the database lock is released");

  // Stopped: the CLI opens the database directly and finds what was created through the API.
  const users = cli(["--json", "user", "list"]);
  assert.equal(users.status, 0, users.stderr);
  assert.deepEqual((JSON.parse(users.stdout) as { address: string }[]).map((a) => a.address), ["alice@standalone.test"]);
  assert.ok(existsSync(join(dataDir, "blobs")), "the blob store lives in the data directory");
});
