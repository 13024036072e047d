import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

// The container image where no Docker engine exists: deploy/local/image-check.sh lints
// deploy/Dockerfile (hadolint) and runs the build stage's production install and the image's start
// command on this machine, as uid 10001 with the application tree read-only and HOME unwritable.
const REPO = fileURLToPath(new URL("../../", import.meta.url));

test("deploy/Dockerfile: hadolint clean; its production install and start command work as the image's user", async () => {
  const child = spawn("bash", ["deploy/local/image-check.sh"], { cwd: REPO, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  assert.equal(code, 0, output);
  for (const step of ["hadolint: no findings", "no devDependencies", "CLI --help ok", "/healthz and /readyz ok", "exited 0 on SIGTERM"]) {
    assert.ok(output.includes(step), `missing "${step}" in:\n${output}`);
  }
  assert.match(output, /^\[image-check\] [\d:]+ ok$/m, "the script's last step reports ok");
});
