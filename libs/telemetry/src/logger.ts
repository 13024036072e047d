import { pino, type Logger, type LevelWithSilent } from "pino";
import { trace } from "@opentelemetry/api";

export type { Logger } from "pino";

/**
 * JSON logs to stdout. Every line carries the service name, and the trace and span id of the
 * active span so a log line can be found from a trace and back. Pass `{ messageId }` (the ULID of
 * a mail) as a child binding or per line to tie logs to one message.
 */
export function createLogger(service: string, level: LevelWithSilent = "info"): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = trace.getActiveSpan()?.spanContext();
      return ctx ? { traceId: ctx.traceId, spanId: ctx.spanId } : {};
    },
  });
}
