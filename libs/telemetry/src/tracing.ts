import { context, propagation, trace, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from "@opentelemetry/sdk-trace";

export interface TracingHandle {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts OpenTelemetry tracing for this process: W3C trace-context propagation and async context
 * always (so a trace id travels through bus headers even when nothing is exported), OTLP/HTTP
 * export only when an endpoint is configured (the exporter is loaded only then). Idempotent:
 * standalone mode runs every service in one process.
 */
export async function startTracing(serviceName: string, otlpEndpoint?: string): Promise<TracingHandle> {
  if (started) return started;
  const spanProcessors: SpanProcessor[] = [];
  if (otlpEndpoint) {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` }) }));
  }
  const provider = new TracerProvider({ resource: resourceFromAttributes({ "service.name": serviceName }), spanProcessors });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  started = {
    tracer: trace.getTracer("postline"),
    async shutdown() {
      await provider.shutdown();
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
