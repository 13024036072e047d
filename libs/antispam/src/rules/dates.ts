import type { ContentView } from "../message.ts";

/** The message's Date as ms since 1970; undefined when it has no Date field or the field does not parse. */
export function messageTime(content: ContentView): number | undefined {
  const time = content.parsed.headers.has("date") ? content.parsed.date?.getTime() : undefined;
  return time === undefined || Number.isNaN(time) ? undefined : time;
}

/** The date of a raw Received field: what follows its last ";", null when it has none. */
export function receivedDatePart(line: string): string | null {
  const semicolon = line.lastIndexOf(";");
  return semicolon < 0 ? null : line.slice(semicolon + 1);
}
