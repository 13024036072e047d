import { receivedDatePart } from "./dates.ts";
import type { Rule } from "./rule.ts";

/**
 * Every MTA dates its Received field in RFC 5322's 24-hour form. Bulk-mailing software that forges
 * a chain of Received fields to hide the real origin often writes a 12-hour clock ("Aug, 28 2002
 * 9:58:22 AM -0300"), which no MTA does.
 */
const TWELVE_HOUR = /\b\d{1,2}:\d{2}(?::\d{2})?\s?[AP]\.?M\b/i;

export const receivedDateRule: Rule = {
  name: "received-date",
  check({ content }) {
    for (const { key, line } of content.parsed.headerLines ?? []) {
      if (key !== "received") continue;
      const date = receivedDatePart(line);
      if (date !== null && TWELVE_HOUR.test(date)) return [{ name: "FORGED_RECEIVED_DATE", detail: date.trim().slice(0, 60) }];
    }
    return [];
  },
};
