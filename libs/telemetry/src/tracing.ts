import { randomFillSync } from "node:crypto";
import {
  context,
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanOptions,
  type Tracer,
  type TracerProvider as ApiTracerProvider,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

export interface TracingHandle {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts OpenTelemetry tracing for this process: W3C trace-context propagation and async context
 * always (so a trace id travels through bus headers even when nothing is exported), OTLP/HTTP
 * export only when an endpoint is configured (the SDK and the exporter are loaded only then).
 * Without an endpoint spans are not recorded at all (see PropagatingTracer): a span continues the
 * trace context it started in unchanged, and a span without a parent starts a new trace id, so
 * log lines still carry a trace id and the next service still receives a `traceparent`.
 * Idempotent: standalone mode runs every service in one process.
 */
export async function startTracing(serviceName: string, otlpEndpoint?: string): Promise<TracingHandle> {
  if (started) return started;
  let provider: ApiTracerProvider & { shutdown?(): Promise<void> };
  if (otlpEndpoint) {
    const [{ OTLPTraceExporter }, { BatchSpanProcessor, TracerProvider }, { resourceFromAttributes }] = await Promise.all([
      import("@opentelemetry/exporter-trace-otlp-http"),
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/resources"),
    ]);
    const exporter = new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` });
    provider = new TracerProvider({ resource: resourceFromAttributes({ "service.name": serviceName }), spanProcessors: [new BatchSpanProcessor({ exporter })] });
  } else {
    const tracer = new PropagatingTracer();
    provider = { getTracer: () => tracer };
  }
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  started = {
    tracer: trace.getTracer("postline"),
    async shutdown() {
      await provider.shutdown?.();
      trace.disable();
      propagation.disable();
      context.disable();
      started = undefined;
    },
  };
  return started;
}

export function tracer(): Tracer {
  return trace.getTracer("postline");
}

/**
 * The tracer of a process that exports nothing: its spans record nothing (no attributes, events,
 * timestamps or span processors) and cost one object each. A span started inside a valid trace
 * context IS that context (the incoming traceparent goes on unchanged, so a trace started by an
 * exporting service continues through this one to the next exporting one, with a parent that
 * exists); a root span gets fresh random trace and span ids, sampled, as the SDK's default sampler
 * would give it, so its id reaches the logs and the services downstream.
 */
class PropagatingTracer implements Tracer {
  startSpan(_name: string, options?: SpanOptions, ctx: Context = context.active()): Span {
    const parent = options?.root ? undefined : trace.getSpanContext(ctx);
    if (parent && isSpanContextValid(parent)) return trace.wrapSpanContext(parent);
    return trace.wrapSpanContext({ traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a2?: SpanOptions | F, a3?: Context | F, a4?: F): ReturnType<F> {
    let options: SpanOptions | undefined;
    let ctx: Context | undefined;
    let fn: F;
    if (typeof a2 === "function") fn = a2;
    else if (typeof a3 === "function") [options, fn] = [a2, a3];
    else [options, ctx, fn] = [a2, a3, a4!];
    const parentContext = ctx ?? context.active();
    const span = this.startSpan(name, options, parentContext);
    return context.with(trace.setSpan(parentContext, span), () => fn(span)) as ReturnType<F>;
  }
}

// Random ids from a pool filled 4 KiB at a time: one getrandom call per ~340 spans instead of two each.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      randomFillSync(pool);
      poolOffset = 0;
    }
    const hex = pool.toString("hex", poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(hex)) return hex; // all zeros is the invalid id
  }
}
