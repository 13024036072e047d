import type { ContentView } from "../message.ts";

/** The values of the message's Received fields, topmost first (mailparser gives one field as a string, several as an array). */
export function receivedValues(content: ContentView): string[] {
  const received: unknown = content.parsed.headers.get("received");
  const values = Array.isArray(received) ? received : received === undefined ? [] : [received];
  return values.map((value) => String(value));
}
