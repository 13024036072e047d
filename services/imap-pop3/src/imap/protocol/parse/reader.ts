import type { CommandSegment } from "../segments.ts";

/** A syntax error: the dispatcher answers `<tag> BAD <message>`. */
export class ParseError extends Error {}

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** ATOM-CHAR: any CHAR except atom-specials ( ) { SP CTL % * " \ ] (RFC 9051 9). */
const ATOM_CHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) ATOM_CHAR[c] = 1;
for (const c of "(){%*\"\\]") ATOM_CHAR[c.charCodeAt(0)] = 0;

/** ASTRING-CHAR: ATOM-CHAR and "]". */
const ASTRING_CHAR = ATOM_CHAR.slice();
ASTRING_CHAR[0x5d] = 1;

/** tag: ASTRING-CHAR except "+". */
const TAG_CHAR = ASTRING_CHAR.slice();
TAG_CHAR[0x2b] = 0;

// Leniency: clients send unquoted UTF-8 mailbox names and user names (RFC 6855 sessions especially),
// so astrings and list patterns accept 8-bit octets; atoms, tags and flags stay ASCII.
for (let c = 0x80; c < 0x100; c++) ASTRING_CHAR[c] = 1;

/** list-char: ASTRING-CHAR and list-wildcards. */
const LIST_CHAR = ASTRING_CHAR.slice();
LIST_CHAR[0x25] = 1;
LIST_CHAR[0x2a] = 1;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Decodes wire octets: UTF-8 when valid, else Latin-1 (every octet kept). */
export function decodeText(bytes: Uint8Array): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      try {
        return utf8.decode(bytes);
      } catch {
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
      }
    }
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
}

/** Reads the grammar's terminals off a received command, left to right. */
export class Reader {
  private seg = 0;
  private pos = 0;

  constructor(private readonly segments: CommandSegment[]) {}

  private get text(): Buffer {
    return this.segments[this.seg]!.text;
  }

  /** The next octet of the current line; -1 at the end of a line (before a literal or at the end). */
  peek(): number {
    const text = this.text;
    return this.pos < text.length ? text[this.pos]! : -1;
  }

  /** True when a literal is the next item. */
  atLiteral(): boolean {
    return this.pos >= this.text.length && this.segments[this.seg]!.literal !== undefined;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length && this.segments[this.seg]!.literal === undefined;
  }

  /** Position for error messages. */
  where(): string {
    if (this.atEnd()) return "at end of command";
    if (this.atLiteral()) return "at literal";
    const rest = this.text.subarray(this.pos, this.pos + 16).toString("latin1").replace(/[^\x20-\x7e]/g, "?");
    return `near "${rest}"`;
  }

  fail(what: string): never {
    throw new ParseError(`${what} ${this.where()}`);
  }

  /** Consumes `c` when it is next. */
  tryChar(c: string): boolean {
    if (this.peek() === c.charCodeAt(0)) {
      this.pos++;
      return true;
    }
    return false;
  }

  expectChar(c: string, what = `"${c}"`): void {
    if (!this.tryChar(c)) this.fail(`expected ${what}`);
  }

  sp(): void {
    if (this.peek() !== SP) this.fail("expected a space");
    this.pos++;
  }

  trySp(): boolean {
    return this.tryChar(" ");
  }

  /** Consumes the keyword (case-insensitive) when it is next and followed by a non-atom octet. */
  tryKeyword(word: string): boolean {
    const text = this.text;
    if (this.pos + word.length > text.length) return false;
    for (let i = 0; i < word.length; i++) {
      const c = text[this.pos + i]!;
      const w = word.charCodeAt(i);
      if (c !== w && !(c >= 0x61 && c <= 0x7a && c - 0x20 === w)) return false;
    }
    const after = this.pos + word.length < text.length ? text[this.pos + word.length]! : -1;
    if (after >= 0 && ATOM_CHAR[after] === 1 && after !== 0x5b && after !== 0x3c) return false;
    this.pos += word.length;
    return true;
  }

  private run(table: Uint8Array): string {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && table[text[this.pos]!] === 1) this.pos++;
    return text.toString("latin1", start, this.pos);
  }

  /** 1*ATOM-CHAR. */
  atom(what = "an atom"): string {
    const value = this.run(ATOM_CHAR);
    if (value === "") this.fail(`expected ${what}`);
    return value;
  }

  /** An atom made only of the octets that `allowed` accepts (e.g. letters and dots of a fetch item). */
  word(allowed: (c: number) => boolean, what: string): string {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && allowed(text[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return text.toString("latin1", start, this.pos);
  }

  tag(): string {
    const value = this.run(TAG_CHAR);
    if (value === "") this.fail("expected a tag");
    return value;
  }

  /** A quoted string or a literal, as octets. */
  stringBytes(what = "a string"): Buffer {
    if (this.atLiteral()) return this.literal().content;
    if (this.peek() !== DQUOTE) this.fail(`expected ${what}`);
    return this.quotedBytes();
  }

  string(what = "a string"): string {
    return decodeText(this.stringBytes(what));
  }

  /** quoted = DQUOTE *QUOTED-CHAR DQUOTE; `\"` and `\\` are the only escapes; 8-bit and UTF-8 octets are kept. */
  private quotedBytes(): Buffer {
    const text = this.text;
    this.pos++;
    const start = this.pos;
    let escaped = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i]!;
      if (c === BACKSLASH) {
        const next = text[i + 1];
        if (next !== DQUOTE && next !== BACKSLASH) {
          this.pos = i;
          this.fail("bad escape in quoted string");
        }
        escaped = true;
        i++;
        continue;
      }
      if (c === DQUOTE) {
        this.pos = i + 1;
        const raw = text.subarray(start, i);
        if (!escaped) return raw;
        const out = Buffer.allocUnsafe(raw.length);
        let n = 0;
        for (let j = 0; j < raw.length; j++) {
          if (raw[j] === BACKSLASH) j++;
          out[n++] = raw[j]!;
        }
        return out.subarray(0, n);
      }
      if (c === 0 || c === 0x0d || c === 0x0a) {
        this.pos = i;
        this.fail("bad octet in quoted string");
      }
    }
    this.pos = start - 1;
    return this.fail("unterminated quoted string");
  }

  /** The literal that is next; `binary` when it was announced as literal8 (`~{n}`). */
  literal(): { content: Buffer; binary: boolean } {
    if (!this.atLiteral()) this.fail("expected a literal");
    const segment = this.segments[this.seg]!;
    this.seg++;
    this.pos = 0;
    return { content: segment.literal!, binary: segment.binary === true };
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astringBytes(what = "a string"): Buffer {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.stringBytes(what);
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && ASTRING_CHAR[text[this.pos]!] === 1) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return text.subarray(start, this.pos);
  }

  astring(what = "a string"): string {
    return decodeText(this.astringBytes(what));
  }

  /** nstring = string / NIL. */
  nstring(what = "a string or NIL"): string | null {
    if (!this.atLiteral() && this.peek() !== DQUOTE && this.tryKeyword("NIL")) return null;
    return this.string(what);
  }

  /** list-mailbox = 1*list-char / string. */
  listMailbox(): string {
    if (this.atLiteral() || this.peek() === DQUOTE) return this.string("a mailbox pattern");
    const value = this.run(LIST_CHAR);
    if (value === "") this.fail("expected a mailbox pattern");
    return decodeText(Buffer.from(value, "latin1"));
  }

  /** number = 1*DIGIT, at most `max`. */
  number(max: number | bigint = 0xffffffff, what = "a number"): number {
    const text = this.text;
    const start = this.pos;
    while (this.pos < text.length && text[this.pos]! >= 0x30 && text[this.pos]! <= 0x39) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    if (this.pos - start > 20) this.fail(`${what} too large`);
    const digits = text.toString("latin1", start, this.pos);
    const value = Number(digits);
    if (typeof max === "bigint" ? BigInt(digits) > max : value > max) {
      this.pos = start;
      this.fail(`${what} too large`);
    }
    return value;
  }

  /** nz-number: 1..2^32-1. */
  nzNumber(what = "a non-zero number"): number {
    const value = this.number(0xffffffff, what);
    if (value === 0) this.fail(`expected ${what}`);
    return value;
  }

  /** mod-sequence-value: 1..2^63-1, as a JS number (exact up to 2^53; our own mod-sequences stay below). */
  modseq(allowZero = false): number {
    const value = this.number(9223372036854775807n, "a mod-sequence");
    if (value === 0 && !allowZero) this.fail("expected a non-zero mod-sequence");
    return value;
  }

  /** Requires the end of the command. */
  end(): void {
    if (!this.atEnd()) this.fail("unexpected data");
  }
}
