import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";

// Tracing is process-global: exercise it in a child process that exports to a collector we run.
test("with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are exported over OTLP/HTTP with the service name", async () => {
  const bodies: Buffer[] = [];
  const collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  }).listen(0, "127.0.0.1");
  await once(collector, "listening");
  const port = (collector.address() as { port: number }).port;
  const script = `
    import { startTracing, tracer } from "@postline/telemetry";
    const t = await startTracing("export-test", "http://127.0.0.1:${port}");
    tracer().startActiveSpan("delivered one message", (span) => span.end());
    await t.shutdown();
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: import.meta.dirname, stdio: "inherit" });
  const [code] = await once(child, "exit");
  collector.close();
  assert.equal(code, 0);
  const exported = Buffer.concat(bodies).toString("latin1");
  assert.match(exported, /delivered one message/);
  assert.match(exported, /export-test/);
});
