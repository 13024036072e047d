import { stripComments } from "./content-header.ts";

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

// RFC 5322 4.3 obsolete zones, in minutes east of UTC; military and unknown zones mean "unknown" = -0000.
const ZONES: Record<string, number> = {
  ut: 0, utc: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300, mst: -420, mdt: -360, pst: -480, pdt: -420,
};

const RFC5322_DATE =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})[\s-]*([a-z]{3})[a-z]*\.?[\s-]*(\d{2,4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?\s*([+-]\d{1,2}:?\d{2}|[a-z]+)?/i;

/** The Date header as an instant (RFC 5322 and its obsolete forms, leniently), or null when unparseable. */
export function parseMailDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const s = stripComments(value).replace(/\s+/g, " ").trim();
  const m = RFC5322_DATE.exec(s);
  if (!m) return fallback(s);
  const day = Number(m[1]);
  const month = MONTHS[m[2]!.toLowerCase()];
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Math.min(Number(m[6] ?? 0), 59);
  if (month === undefined || day < 1 || day > 31 || hour > 23 || minute > 59) return fallback(s);
  let offset = 0;
  const zone = m[7];
  if (zone && /^[+-]/.test(zone)) {
    const digits = zone.slice(1).replace(":", "").padStart(4, "0");
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    offset = zone[0] === "-" ? -minutes : minutes;
  } else if (zone) {
    offset = ZONES[zone.toLowerCase()] ?? 0;
  }
  const t = Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
  return valid(new Date(t));
}

function fallback(s: string): Date | null {
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : valid(new Date(t));
}

function valid(d: Date): Date | null {
  const y = d.getUTCFullYear();
  return Number.isNaN(d.getTime()) || y < 1 || y > 9999 ? null : d;
}
