import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

export interface MinioInstance {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Stops the server (SIGKILL when `crash`); its data stays for `start()`. */
  stop(crash?: boolean): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A private MinIO server (the binary deploy/local/infra.sh built) on its own port and data
 * directory, for tests that stop object storage in the middle of their run.
 */
export async function startMinio(): Promise<MinioInstance> {
  const bin = process.env.POSTLINE_TEST_MINIO_BIN;
  if (!bin) throw new Error("POSTLINE_TEST_MINIO_BIN is not set: run the tests with `pnpm test`");
  const dir = mkdtempSync(join(tmpdir(), "postline-minio-"));
  const port = await freePort();
  const consolePort = await freePort();
  const accessKey = "postline";
  const secretKey = "postline-secret";
  const endpoint = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    child = spawn(bin, ["server", join(dir, "data"), "--quiet", "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${consolePort}`], {
      env: { ...process.env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey },
      stdio: "ignore",
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await fetch(`${endpoint}/minio/health/live`)).ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error("private MinIO did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (crash = false) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill(crash ? "SIGKILL" : "SIGTERM");
    await exited;
  };
  await start();
  return {
    endpoint,
    accessKey,
    secretKey,
    stop,
    start,
    async destroy() {
      await stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
