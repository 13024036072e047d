import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type TextMapPropagator,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { Bus, BusMessage, ConsumeOptions, Consumer, ProduceRecord, TopicSpec } from "./bus.ts";
import { isHandleLater } from "./handle-later.ts";

const tracer = trace.getTracer("@postline/bus");
const w3c = new W3CTraceContextPropagator();

/**
 * The global propagator when the telemetry SDK registered one (W3C trace context and baggage),
 * else W3C trace context alone, so `traceparent` travels even before telemetry is set up.
 */
function propagator(): TextMapPropagator {
  return propagation.fields().length > 0 ? propagation : w3c;
}

/** A copy of `headers` with the trace context of `ctx` (default: the active one) added. */
export function injectTraceContext(headers: Record<string, string> = {}, ctx: Context = context.active()): Record<string, string> {
  const out = { ...headers };
  propagator().inject(ctx, out, defaultTextMapSetter);
  return out;
}

/** The context carried in a record's headers (the active context when they carry none). */
export function extractTraceContext(headers: Record<string, string>, base: Context = context.active()): Context {
  return propagator().extract(base, headers, defaultTextMapGetter);
}

/**
 * Adds tracing to any Bus: produce() runs in a "send" span whose context goes into every
 * record's headers; each handler call runs in a "process" span, child of the context that came
 * in the record's headers, so one message's path through every service is one trace.
 */
export function withTracing(bus: Bus): Bus {
  const system = bus.kind === "kafka" ? "kafka" : "postline_embedded";
  return {
    kind: bus.kind,
    createTopics: (topics: TopicSpec[]) => bus.createTopics(topics),
    ping: () => bus.ping(),
    close: () => bus.close(),
    ...(bus.consumerLag ? { consumerLag: bus.consumerLag.bind(bus) } : {}),

    produce(topic: string, records: ProduceRecord[]): Promise<void> {
      const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER });
      // Attributes only for a span that records them (none when this process exports no traces).
      if (span.isRecording()) {
        span.setAttributes({
          "messaging.system": system,
          "messaging.operation.type": "send",
          "messaging.destination.name": topic,
          "messaging.batch.message_count": records.length,
        });
      }
      const ctx = trace.setSpan(context.active(), span);
      const traced = records.map((r) => ({ ...r, headers: injectTraceContext(r.headers, ctx) }));
      return context.with(ctx, () => bus.produce(topic, traced)).then(
        () => span.end(),
        (err: unknown) => {
          endWithError(span, err);
          throw err;
        },
      );
    },

    consume(options: ConsumeOptions): Promise<Consumer> {
      const handler = (message: BusMessage): Promise<void> => {
        const parent = extractTraceContext(message.headers);
        const span = tracer.startSpan(`process ${message.topic}`, { kind: SpanKind.CONSUMER }, parent);
        if (span.isRecording()) {
          span.setAttributes({
            "messaging.system": system,
            "messaging.operation.type": "process",
            "messaging.destination.name": message.topic,
            "messaging.destination.partition.id": String(message.partition),
            "messaging.consumer.group.name": options.groupId,
            "messaging.kafka.offset": Number(message.offset),
            ...(message.key !== null ? { "messaging.kafka.message.key": message.key } : {}),
          });
        }
        return context.with(trace.setSpan(parent, span), () => options.handler(message)).then(
          () => span.end(),
          (err: unknown) => {
            if (isHandleLater(err)) {
              // Not a failure: the record is handed over again when it is due.
              span.setAttribute("postline.bus.handle_later_at", new Date(err.at).toISOString());
              span.end();
            } else {
              endWithError(span, err);
            }
            throw err;
          },
        );
      };
      return bus.consume({ ...options, handler });
    },
  };
}

function endWithError(span: ReturnType<typeof tracer.startSpan>, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  span.end();
}
