import type { Rule } from "./rule.ts";

/**
 * Mail programs write the Date field in RFC 5322's form: an optional day name, day, month name,
 * year, time and a numeric zone (or one of the obsolete zone names). Bulk-mailing software often
 * leaves out the zone or invents its own layout.
 */
const RFC5322_DATE =
  /^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Z])\b/i;

export const dateFormatRule: Rule = {
  name: "date-format",
  check({ content }) {
    const field = content.parsed.headerLines?.find((h) => h.key === "date");
    if (!field) return [];
    const value = field.line.slice(field.line.indexOf(":") + 1);
    return RFC5322_DATE.test(value) ? [] : [{ name: "DATE_INVALID", detail: value.trim().slice(0, 60) }];
  },
};
