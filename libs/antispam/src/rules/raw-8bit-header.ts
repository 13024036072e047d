import type { Rule } from "./rule.ts";

/**
 * Subject and From are ASCII on the wire: other characters go in encoded words (RFC 2047), or as
 * UTF-8 where SMTPUTF8 allows it (RFC 6532). Raw bytes of a national charset there (GB2312, Big5,
 * windows-1252...) are what bulk software writes; no mail program does. Two such bytes are needed,
 * and valid UTF-8 is never a sign.
 */
const CHECKED = /^(?:subject|from)$/i;
const HIGH_BYTES = 2;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function headerSection(raw: Buffer): Buffer {
  const crlf = raw.indexOf("\r\n\r\n");
  const lf = raw.indexOf("\n\n");
  const ends = [crlf, lf].filter((i) => i >= 0);
  return raw.subarray(0, ends.length ? Math.min(...ends) : raw.length);
}

/** The raw lines (with continuations) of the fields CHECKED, as bytes. */
function checkedFields(head: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  let start = 0;
  let current: { from: number; name: string } | null = null;
  while (start <= head.length) {
    let end = head.indexOf(10, start);
    if (end < 0) end = head.length;
    const first = head[start];
    if (first !== 32 && first !== 9) {
      if (current && CHECKED.test(current.name)) fields.push(head.subarray(current.from, start));
      const colon = head.indexOf(58, start);
      current = colon > start && colon < end ? { from: start, name: head.subarray(start, colon).toString("latin1").trim() } : null;
    }
    start = end + 1;
  }
  if (current && CHECKED.test(current.name)) fields.push(head.subarray(current.from));
  return fields;
}

function isRawNationalText(field: Buffer): boolean {
  let high = 0;
  for (const byte of field) if (byte >= 0x80) high++;
  if (high < HIGH_BYTES) return false;
  try {
    utf8.decode(field);
    return false;
  } catch {
    return true;
  }
}

export const raw8bitHeaderRule: Rule = {
  name: "raw-8bit-header",
  check({ content }) {
    const field = checkedFields(headerSection(content.raw)).find(isRawNationalText);
    return field ? [{ name: "HEADER_8BIT_RAW", detail: field.subarray(0, field.indexOf(58)).toString("latin1") }] : [];
  },
};
