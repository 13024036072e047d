/**
 * Content-Transfer-Encoding decoders that work chunk by chunk (BINARY fetches of large attachments,
 * SEARCH BODY over a streamed part), and charset decoding for SEARCH.
 */

/** Encodings BINARY can serve; anything else is `NO [UNKNOWN-CTE]`. */
export function knownEncoding(encoding: string): boolean {
  return ["7BIT", "8BIT", "BINARY", "BASE64", "QUOTED-PRINTABLE"].includes(encoding.toUpperCase());
}

/** A push decoder: `push` returns decoded bytes for a chunk, `end` what is left. */
export interface Decoder {
  push(chunk: Buffer): Buffer;
  end(): Buffer;
}

export function decoderFor(encoding: string): Decoder {
  switch (encoding.toUpperCase()) {
    case "BASE64":
      return new Base64Decoder();
    case "QUOTED-PRINTABLE":
      return new QpDecoder();
    default:
      return { push: (c) => c, end: () => Buffer.alloc(0) };
  }
}

const B64 = new Int16Array(256).fill(-1);
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".split("").forEach((c, i) => (B64[c.charCodeAt(0)] = i));
B64["-".charCodeAt(0)] = 62;
B64["_".charCodeAt(0)] = 63;

class Base64Decoder implements Decoder {
  private carry = "";
  push(chunk: Buffer): Buffer {
    let s = this.carry;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (B64[c]! >= 0) s += String.fromCharCode(c);
    }
    const usable = s.length - (s.length % 4);
    this.carry = s.slice(usable);
    return Buffer.from(s.slice(0, usable), "base64");
  }
  end(): Buffer {
    const rest = this.carry;
    this.carry = "";
    return rest.length >= 2 ? Buffer.from(rest, "base64") : Buffer.alloc(0);
  }
}

const HEX = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);

class QpDecoder implements Decoder {
  private carry = Buffer.alloc(0);
  push(chunk: Buffer): Buffer {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    // Keep an incomplete escape or line for the next chunk: the last line without its line ending.
    const lastLf = data.lastIndexOf(10);
    const head = lastLf === -1 ? safeQpCut(data) : lastLf + 1;
    this.carry = Buffer.from(data.subarray(head));
    return decodeQp(data.subarray(0, head), false);
  }
  end(): Buffer {
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    return decodeQp(rest, true);
  }
}

/** Where a chunk with no line ending may be cut: before a trailing `=` or `=X`, and before trailing whitespace. */
function safeQpCut(data: Buffer): number {
  let n = data.length;
  const eq = data.lastIndexOf(61, n - 1);
  if (eq !== -1 && eq >= n - 2) n = eq;
  while (n > 0 && (data[n - 1] === 32 || data[n - 1] === 9)) n--;
  return n;
}

function decodeQp(data: Buffer, final: boolean): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  let i = 0;
  while (i < data.length) {
    const c = data[i]!;
    if (c === 61 /* = */) {
      const h1 = i + 1 < data.length ? HEX(data[i + 1]!) : -1;
      const h2 = i + 2 < data.length ? HEX(data[i + 2]!) : -1;
      if (h1 >= 0 && h2 >= 0) {
        out[o++] = h1 * 16 + h2;
        i += 3;
        continue;
      }
      // Soft line break: `=` followed by optional whitespace and a line ending.
      let j = i + 1;
      while (j < data.length && (data[j] === 32 || data[j] === 9)) j++;
      if (j < data.length && data[j] === 13 && data[j + 1] === 10) {
        i = j + 2;
        continue;
      }
      if (j < data.length && data[j] === 10) {
        i = j + 1;
        continue;
      }
      if (j >= data.length && final) {
        i = j;
        continue;
      }
      out[o++] = c;
      i++;
      continue;
    }
    if (c === 32 || c === 9) {
      // Trailing whitespace before a line ending is transport padding (RFC 2045 6.7 (3)).
      let j = i;
      while (j < data.length && (data[j] === 32 || data[j] === 9)) j++;
      if (j < data.length && (data[j] === 13 || data[j] === 10)) {
        i = j;
        continue;
      }
    }
    out[o++] = c;
    i++;
  }
  return out.subarray(0, o);
}

/** Decodes a whole buffer. */
export function decodeAll(encoding: string, data: Buffer): Buffer {
  const d = decoderFor(encoding);
  const a = d.push(data);
  const b = d.end();
  return b.length ? Buffer.concat([a, b]) : a;
}

/** Text in a declared charset; unknown charsets fall back to UTF-8 (then Latin-1 on invalid bytes). */
export function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const cs = (charset ?? "utf-8").trim().toLowerCase().replace(/^"|"$/g, "");
  if (cs && cs !== "utf-8" && cs !== "utf8" && cs !== "us-ascii") {
    try {
      return new TextDecoder(cs).decode(bytes);
    } catch {
      // unknown label: fall through
    }
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString("latin1");
  }
}
