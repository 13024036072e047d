/**
 * Serialisers for IMAP response syntax (RFC 9051 9). Strings are written as UTF-8 by the session,
 * so literal lengths count UTF-8 octets. Anything outside printable ASCII goes out as a literal,
 * which every client (rev1 and rev2) accepts.
 */

const MAX_QUOTED = 1024;

/** ASTRING-CHAR (atom chars and "]"), tested per char code. */
function isAstringChar(c: number): boolean {
  if (c <= 0x20 || c >= 0x7f) return false;
  return c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c;
}

/** Printable ASCII only: such a string can be quoted. */
function isQuotable(s: string): boolean {
  if (s.length > MAX_QUOTED) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** A quoted string, `"` and `\` escaped; CR, LF and NUL (which a quoted string cannot hold) become spaces. */
export function quoted(s: string): string {
  return `"${s.replace(/[\r\n\0]/g, " ").replace(/["\\]/g, "\\$&")}"`;
}

/** `{n}\r\n`: the prefix of a literal of `octets` octets. */
export function literalPrefix(octets: number): string {
  return `{${octets}}\r\n`;
}

function literal(s: string): string {
  return literalPrefix(Buffer.byteLength(s, "utf8")) + s;
}

/** A string: quoted when it can be, else a literal. */
export function string(s: string): string {
  return isQuotable(s) ? quoted(s) : literal(s);
}

/** astring: an atom when safe, else quoted, else a literal. */
export function astring(s: string): string {
  if (s.length > 0 && s.length <= MAX_QUOTED && s.toUpperCase() !== "NIL") {
    let atom = true;
    for (let i = 0; i < s.length && atom; i++) atom = isAstringChar(s.charCodeAt(i));
    if (atom) return s;
  }
  return string(s);
}

/** nstring: NIL, quoted or a literal. */
export function nstring(s: string | null | undefined): string {
  return s === null || s === undefined ? "NIL" : string(s);
}

/** `(\Seen $Junk)`. */
export function flagList(flags: string[]): string {
  return `(${flags.join(" ")})`;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number): string => String(n).padStart(2, "0");

/** INTERNALDATE: `"28-Nov-2026 11:23:17 +0000"` (in UTC, with the quotes). */
export function internalDate(d: Date): string {
  const date = `${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${String(d.getUTCFullYear()).padStart(4, "0")}`;
  return `"${date} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000"`;
}

/** Ascending numbers as a sequence set: `1:3,5,9:10`; "" when empty. */
export function compactSet(nums: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < nums.length) {
    const start = nums[i]!;
    let end = start;
    while (i + 1 < nums.length && nums[i + 1] === end + 1) end = nums[++i]!;
    out.push(start === end ? String(start) : `${start}:${end}`);
    i++;
  }
  return out.join(",");
}
