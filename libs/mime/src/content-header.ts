import { decode as decodeCharset } from "libmime/lib/charset.js";
import libmime from "libmime";

/** A structured MIME header value: `value; attr=val; attr="quoted val"` (Content-Type, Content-Disposition). */
export interface StructuredValue {
  /** The part before the first `;`, comments removed, trimmed, lower-cased. */
  value: string;
  /** Attribute names lower-cased; values raw (quotes and backslash escapes removed, RFC 2231/2047 not decoded). */
  params: Record<string, string>;
}

/** Removes RFC 5322 comments `( ... )` outside quoted strings; nested comments and escapes are honoured. */
export function stripComments(s: string): string {
  if (!s.includes("(")) return s;
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? "");
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === "(") depth++;
      else if (c === ")") depth--;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === "(" && !quoted) {
      depth = 1;
      out += " ";
      continue;
    }
    out += c;
  }
  return out;
}

export function parseStructuredValue(input: string): StructuredValue {
  const s = stripComments(input);
  const params: Record<string, string> = {};
  let i = s.indexOf(";");
  const value = (i === -1 ? s : s.slice(0, i)).trim().toLowerCase();
  while (i !== -1 && i < s.length) {
    i++; // past ';'
    const eq = s.indexOf("=", i);
    const semi = s.indexOf(";", i);
    if (eq === -1 || (semi !== -1 && semi < eq)) {
      i = semi;
      continue;
    }
    const name = s.slice(i, eq).trim().toLowerCase();
    let j = eq + 1;
    while (j < s.length && (s[j] === " " || s[j] === "\t")) j++;
    let val: string;
    if (s[j] === '"') {
      val = "";
      j++;
      while (j < s.length && s[j] !== '"') {
        if (s[j] === "\\" && j + 1 < s.length) j++;
        val += s[j];
        j++;
      }
      i = s.indexOf(";", j);
    } else {
      const end = s.indexOf(";", j);
      val = (end === -1 ? s.slice(j) : s.slice(j, end)).trim();
      i = end;
    }
    if (name && !/[\s"]/.test(name) && !(name in params)) params[name] = val;
  }
  return { value, params };
}

/**
 * A parameter's decoded value: RFC 2231 continuations (`name*0*`, `name*1`, ...) and charsets joined and decoded,
 * and RFC 2047 encoded words (common, though not allowed, in `name="=?utf-8?...?="`) decoded. Null when absent.
 */
export function decodedParam(params: Record<string, string>, name: string): string | null {
  const extended = params[`${name}*`];
  if (extended !== undefined) return decode2231([{ value: extended, encoded: true }]);
  const segments: { value: string; encoded: boolean }[] = [];
  for (let n = 0; n < 1000; n++) {
    const enc = params[`${name}*${n}*`];
    const plain = params[`${name}*${n}`];
    if (enc !== undefined) segments.push({ value: enc, encoded: true });
    else if (plain !== undefined) segments.push({ value: plain, encoded: false });
    else break;
  }
  if (segments.length > 0) return decode2231(segments);
  const plain = params[name];
  return plain === undefined ? null : decodeWords(plain);
}

function decode2231(segments: { value: string; encoded: boolean }[]): string {
  let charset = "us-ascii";
  const bytes: Buffer[] = [];
  segments.forEach((seg, index) => {
    let v = seg.value;
    if (index === 0 && seg.encoded) {
      const m = /^([^']*)'[^']*'/.exec(v);
      if (m) {
        charset = m[1] || "us-ascii";
        v = v.slice(m[0].length);
      }
    }
    bytes.push(seg.encoded ? percentDecode(v) : Buffer.from(v, "utf8"));
  });
  const all = Buffer.concat(bytes);
  try {
    return decodeCharset(all, /^(us-)?ascii$/i.test(charset) ? "utf-8" : charset);
  } catch {
    return all.toString("utf8");
  }
}

function percentDecode(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else out.push(...Buffer.from(s[i]!, "utf8"));
  }
  return Buffer.from(out);
}

/** RFC 2047 encoded words decoded to a JS string; never throws (a malformed word is left as it is). */
export function decodeWords(s: string): string {
  if (!s.includes("=?")) return s;
  try {
    return libmime.decodeWords(s);
  } catch {
    return s;
  }
}
