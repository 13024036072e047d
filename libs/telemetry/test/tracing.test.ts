import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
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

test("without an exporter, spans record nothing but carry the incoming trace context on unchanged and start new traces at the root", () => {
  const script = `
    import { context, propagation, trace, defaultTextMapGetter, defaultTextMapSetter } from "@opentelemetry/api";
    import { startTracing, tracer } from "@postline/telemetry";
    const t = await startTracing("quiet-test");
    const incoming = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "vendor=1" };
    const parent = propagation.extract(context.active(), incoming, defaultTextMapGetter);
    const child = tracer().startSpan("process", {}, parent);
    const outgoing = {};
    propagation.inject(trace.setSpan(parent, child), outgoing, defaultTextMapSetter);
    const nested = tracer().startActiveSpan("outer", (outer) => tracer().startActiveSpan("inner", (inner) => [outer.spanContext(), inner.spanContext()]));
    const roots = [tracer().startSpan("a").spanContext(), tracer().startSpan("b").spanContext()];
    const forced = context.with(parent, () => tracer().startSpan("forced root", { root: true }).spanContext());
    console.log(JSON.stringify({ recording: child.isRecording(), outgoing, nested, roots, forced }));
    await t.shutdown();
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", cwd: import.meta.dirname });
  assert.equal(r.status, 0, r.stderr);
  type Ctx = { traceId: string; spanId: string; traceFlags: number };
  const out = JSON.parse(r.stdout.trim()) as { recording: boolean; outgoing: Record<string, string>; nested: Ctx[]; roots: Ctx[]; forced: Ctx };
  assert.equal(out.recording, false);
  assert.deepEqual(out.outgoing, { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "vendor=1" });
  const [outer, inner] = out.nested;
  assert.match(outer!.traceId, /^[0-9a-f]{32}$/);
  assert.match(outer!.spanId, /^[0-9a-f]{16}$/);
  assert.equal(outer!.traceFlags, 1, "a new trace is sampled, as the SDK's default sampler makes it");
  assert.deepEqual(inner, outer, "a span inside a trace continues it");
  assert.notEqual(out.roots[0]!.traceId, out.roots[1]!.traceId, "every root span starts its own trace");
  assert.notEqual(out.forced.traceId, "4bf92f3577b34da6a3ce929d0e0e4736", "root: true ignores the active context");
});
