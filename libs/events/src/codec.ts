import type { z } from "zod";
import type { Bus, BusMessage, Handler } from "@postline/bus";

export class InvalidEvent extends Error {
  constructor(
    readonly topic: string,
    readonly problem: string,
  ) {
    super(`invalid event on ${topic}: ${problem}`);
    this.name = "InvalidEvent";
  }
}

/** Validates and serialises an event; a producer can never publish what consumers would reject. */
export function encodeEvent<S extends z.ZodType>(schema: S, event: z.input<S>): Buffer {
  return Buffer.from(JSON.stringify(schema.parse(event)), "utf8");
}

export function decodeEvent<S extends z.ZodType>(schema: S, message: Pick<BusMessage, "topic" | "value">): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString("utf8"));
  } catch {
    throw new InvalidEvent(message.topic, "not JSON");
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InvalidEvent(message.topic, `${issue.path.join(".") || "event"}: ${issue.message}`);
  }
  return r.data;
}

/** Publishes one event keyed by `key` (the mail id unless stated), resolving once the bus acknowledged it. */
export async function publishEvent<S extends z.ZodType>(bus: Bus, topic: string, schema: S, key: string, event: z.input<S>): Promise<void> {
  await bus.produce(topic, [{ key, value: encodeEvent(schema, event) }]);
}

/**
 * A bus handler that decodes each record. A record that does not match the contract is logged
 * and skipped: it can never become valid, and retrying it forever would stop its partition.
 */
export function eventHandler<S extends z.ZodType>(
  schema: S,
  handle: (event: z.infer<S>, message: BusMessage) => Promise<void>,
  onInvalid: (err: InvalidEvent, message: BusMessage) => void,
): Handler {
  return async (message) => {
    let event: z.infer<S>;
    try {
      event = decodeEvent(schema, message);
    } catch (err) {
      if (err instanceof InvalidEvent) return onInvalid(err, message);
      throw err;
    }
    await handle(event, message);
  };
}
