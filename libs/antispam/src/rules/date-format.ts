import type { Rule } from "./rule.ts";

/**
 * Mail programs write the Date field in RFC 5322's form: an optional day name, day, month name,
 * year, time and a numeric zone (or one of the obsolete zone names). Bulk-mailing software often
 * leaves out the zone, invents its own layout, or writes a zone no place on earth has (`+1900`,
 * `-0073`: real offsets run from −12:00 to +14:00 in quarter hours).
 */
const RFC5322_DATE =
  /^\s*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s+([+-]\d{4}|UT|GMT|[ECMP][SD]T|[A-IK-Z])\b/i;
const REAL_OFFSET = /^[+-](?:0\d|1[0-4])(?:00|15|30|45)$/;

export const dateFormatRule: Rule = {
  name: "date-format",
  check({ content }) {
    const field = content.parsed.headerLines?.find((h) => h.key === "date");
    if (!field) return [];
    const value = field.line.slice(field.line.indexOf(":") + 1);
    const zone = RFC5322_DATE.exec(value)?.[1];
    if (zone === undefined) return [{ name: "DATE_INVALID", detail: value.trim().slice(0, 60) }];
    if (/^[+-]/.test(zone) && !REAL_OFFSET.test(zone)) return [{ name: "DATE_INVALID", detail: `zone ${zone}` }];
    return [];
  },
};
