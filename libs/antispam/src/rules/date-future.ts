import { messageTime, receivedDatePart } from "./dates.ts";
import type { Rule } from "./rule.ts";

/**
 * A Date more than 12 hours after the message reached us (the topmost Received field, our own MX's):
 * bulk-mailing software that sets its own clock ahead keeps its mail at the top of a date-sorted
 * mailbox. Inbound only: a user's wrong clock on submitted mail is no sign of abuse.
 */
const AHEAD_MS = 12 * 3_600_000;

export const dateFutureRule: Rule = {
  name: "date-future",
  sources: ["inbound"],
  check({ content }) {
    const date = messageTime(content);
    const received = content.parsed.headerLines?.find((h) => h.key === "received")?.line;
    const receivedPart = received ? receivedDatePart(received) : null;
    if (date === undefined || receivedPart === null) return [];
    const receivedAt = Date.parse(receivedPart.replace(/\([^)]*\)/g, "").trim());
    if (Number.isNaN(receivedAt) || date - receivedAt <= AHEAD_MS) return [];
    return [{ name: "DATE_IN_FUTURE", detail: `${Math.round((date - receivedAt) / 3_600_000)} h ahead` }];
  },
};
