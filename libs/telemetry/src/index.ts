export { createLogger, type Logger } from "./logger.ts";
export { startTracing, tracer, type TracingHandle } from "./tracing.ts";
export { metricsRegistry } from "./metrics.ts";
export { buildOpsServer, startOpsServer, type OpsServerOptions, type ReadinessCheck } from "./ops-server.ts";
