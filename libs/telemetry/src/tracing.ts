import { NodeSDK } from "@opentelemetry/sdk-node";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { trace, type Tracer } from "@opentelemetry/api";

export interface TracingHandle {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

let started: TracingHandle | undefined;

/**
 * Starts OpenTelemetry for this process: W3C trace-context propagation and async context always
 * (so a trace id travels through bus headers even when nothing is exported), OTLP/HTTP export only
 * when an endpoint is configured. Idempotent: standalone mode runs every service in one process.
 */
export function startTracing(serviceName: string, otlpEndpoint?: string): TracingHandle {
  if (started) return started;
  const sdk = new NodeSDK({
    serviceName,
    spanProcessors: otlpEndpoint
      ? [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${otlpEndpoint.replace(/\/$/, "")}/v1/traces` }) })]
      : [],
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  started = {
    tracer: trace.getTracer("postline"),
    async shutdown() {
      await sdk.shutdown();
      started = undefined;
    },
  };
  return started;
}

export function tracer(): Tracer {
  return trace.getTracer("postline");
}
