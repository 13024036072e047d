import type { Rule } from "./rule.ts";

/**
 * Subject and From are ASCII on the wire: other characters go in encoded words (RFC 2047), or as
 * UTF-8 where SMTPUTF8 allows it (RFC 6532). Raw bytes of a national charset there (GB2312, Big5,
 * windows-1252...) are what bulk software writes; no mail program does. Two such bytes are needed,
 * and valid UTF-8 is never a sign.
 */
const CHECKED = new Set(["subject", "from"]);
const HIGH_BYTES = 2;
const utf8 = new TextDecoder("utf-8", { fatal: true });

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
    // mailparser keeps each field's raw line as a binary string: latin1 gives the bytes back
    const field = (content.parsed.headerLines ?? []).find(({ key, line }) => CHECKED.has(key) && isRawNationalText(Buffer.from(line, "latin1")));
    return field ? [{ name: "HEADER_8BIT_RAW", detail: field.line.slice(0, field.line.indexOf(":")) }] : [];
  },
};
