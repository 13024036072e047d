import type { Reader } from "./reader.ts";

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** date = date-text / DQUOTE date-text DQUOTE; date-text = date-day "-" date-month "-" date-year. Returns YYYY-MM-DD. */
export function searchDate(r: Reader): string {
  const quoted = r.tryChar('"');
  const text = r.word((c) => (c >= 0x30 && c <= 0x39) || c === 0x2d || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a), "a date");
  if (quoted) r.expectChar('"', "closing quote of the date");
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) r.fail(`bad date "${text}" (expected dd-Mon-yyyy)`);
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.toUpperCase()) + 1;
  const year = Number(m[3]);
  if (month === 0 || day < 1 || day > daysIn(year, month)) r.fail(`bad date "${text}"`);
  return `${m[3]}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE (RFC 9051 9). */
export function dateTime(r: Reader): Date {
  const text = r.string("a date-time");
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) r.fail(`bad date-time "${text}"`);
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.toUpperCase());
  const year = Number(m[3]);
  const [h, min, s] = [Number(m[4]), Number(m[5]), Number(m[6])];
  const zone = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  if (month < 0 || day < 1 || day > daysIn(year, month + 1) || h > 23 || min > 59 || s > 60 || Number(m[9]) > 59) {
    r.fail(`bad date-time "${text}"`);
  }
  return new Date(Date.UTC(year, month, day, h, min, s) - zone * 60_000);
}
