import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";

// The logger writes to stdout; run it in a child process and read the JSON lines it printed.
test("log lines are JSON with service, level, message id and the active trace id", () => {
  const script = `
    import { createLogger, startTracing, tracer } from "@postline/telemetry";
    const t = await startTracing("test-svc");
    const log = createLogger("test-svc", "info");
    log.debug("hidden");
    log.info({ messageId: "01J0000000000000000000000" }, "outside span");
    tracer().startActiveSpan("work", (span) => { log.info("inside span"); console.error(span.spanContext().traceId); span.end(); });
    await t.shutdown();
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", cwd: import.meta.dirname });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[0].service, "test-svc");
  assert.equal(lines[0].level, "info");
  assert.equal(lines[0].messageId, "01J0000000000000000000000");
  assert.equal(lines[0].traceId, undefined);
  assert.equal(lines[1].traceId, r.stderr.trim());
  assert.match(lines[1].traceId, /^[0-9a-f]{32}$/);
});
