/** One header field of a header block: byte range of the whole field (all its folded lines and their line endings). */
export interface HeaderField {
  /** The field name as written. */
  name: string;
  /** The field name lower-cased, for lookups. */
  key: string;
  start: number;
  /** Where the value begins (just after the colon). */
  valueStart: number;
  /** End (exclusive), after the field's last line ending. */
  end: number;
}

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;
const COLON = 58;

/**
 * Splits a header block into its fields. Lines that are neither a field (`name:`) nor the continuation of
 * one are skipped; the blank line that ends the block, if present, ends the scan.
 */
export function headerFieldsOf(block: Uint8Array): HeaderField[] {
  const fields: HeaderField[] = [];
  let current: HeaderField | null = null;
  let pos = 0;
  const n = block.length;
  while (pos < n) {
    let lf = block.indexOf(LF, pos);
    const lineEnd = lf === -1 ? n : lf + 1;
    if (lf === -1) lf = n;
    const contentEnd = lf > pos && block[lf - 1] === CR ? lf - 1 : lf;
    if (contentEnd === pos) break; // the blank line that ends the header
    const first = block[pos];
    if (first === SP || first === HT) {
      if (current) current.end = lineEnd;
    } else {
      current = null;
      const colon = block.indexOf(COLON, pos);
      if (colon !== -1 && colon < contentEnd) {
        let nameEnd = colon;
        while (nameEnd > pos && (block[nameEnd - 1] === SP || block[nameEnd - 1] === HT)) nameEnd--;
        if (nameEnd > pos && isFieldName(block, pos, nameEnd)) {
          const name = latin1(block, pos, nameEnd);
          current = { name, key: name.toLowerCase(), start: pos, valueStart: colon + 1, end: lineEnd };
          fields.push(current);
        }
      }
    }
    pos = lineEnd;
  }
  return fields;
}

function isFieldName(block: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = block[i]!;
    if (c <= SP || c >= 127) return false;
  }
  return true;
}

function latin1(block: Uint8Array, start: number, end: number): string {
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString("latin1");
}

const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Header bytes as text: UTF-8 when they are valid UTF-8 (RFC 6532), otherwise one character per byte (Latin-1). */
export function headerText(bytes: Uint8Array): string {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (ascii) return buf.toString("latin1");
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return buf.toString("latin1");
  }
}

/** The field's value unfolded (line breaks removed, RFC 5322 2.2.3) and trimmed, still un-decoded. */
export function fieldValue(block: Uint8Array, field: HeaderField): string {
  const raw = headerText(block.subarray(field.valueStart, field.end));
  return raw.replace(/\r?\n/g, "").trim();
}

/** First occurrence of each field, by lower-cased name, unfolded. */
export function headerMap(block: Uint8Array, wanted?: ReadonlySet<string>): Map<string, string> {
  const map = new Map<string, string>();
  for (const f of headerFieldsOf(block)) {
    if (map.has(f.key) || (wanted && !wanted.has(f.key))) continue;
    map.set(f.key, fieldValue(block, f));
  }
  return map;
}

/**
 * The bytes IMAP serves for BODY[HEADER.FIELDS (names)] or, with `exclude`, BODY[HEADER.FIELDS.NOT (names)]:
 * the matching fields as they are in the message, followed by a blank line (RFC 3501 6.4.5).
 */
export function selectHeaderFields(block: Uint8Array, names: readonly string[], exclude = false): Buffer {
  const set = new Set(names.map((n) => n.toLowerCase()));
  const pieces: Buffer[] = [];
  const buf = Buffer.from(block.buffer, block.byteOffset, block.length);
  for (const f of headerFieldsOf(block)) {
    if (set.has(f.key) === exclude) continue;
    const piece = buf.subarray(f.start, f.end);
    pieces.push(piece);
    // A last field without its line ending (header cut off at end of data) still gets one.
    if (piece[piece.length - 1] !== LF) pieces.push(Buffer.from("\r\n"));
  }
  pieces.push(Buffer.from("\r\n"));
  return Buffer.concat(pieces);
}
