/**
 * Mailbox names on the wire: modified UTF-7 (RFC 3501 5.1.3) unless UTF8=ACCEPT is enabled
 * (RFC 6855), when they are UTF-8. "INBOX" is case-insensitive and always comes back as "INBOX".
 */

function isInbox(name: string): boolean {
  return name.length === 5 && name.toUpperCase() === "INBOX";
}

/** No lone surrogates. */
function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

function fromModifiedBase64(text: string, wire: string): string {
  if (!/^[A-Za-z0-9+,]+$/.test(text)) throw new Error(`invalid modified UTF-7 in mailbox name ${JSON.stringify(wire)}`);
  const bytes = Buffer.from(text.replace(/,/g, "/"), "base64");
  const bits = text.length * 6;
  const usedBits = bytes.length * 8;
  if (bytes.length % 2 !== 0 || bits - usedBits >= 6) throw new Error(`invalid modified UTF-7 in mailbox name ${JSON.stringify(wire)}`);
  // the padding bits must be zero
  const tail = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,".indexOf(text[text.length - 1]!);
  const padBits = bits - usedBits;
  if ((tail & ((1 << padBits) - 1)) !== 0) throw new Error(`invalid modified UTF-7 in mailbox name ${JSON.stringify(wire)}`);
  let out = "";
  for (let i = 0; i < bytes.length; i += 2) {
    const unit = (bytes[i]! << 8) | bytes[i + 1]!;
    out += String.fromCharCode(unit);
  }
  if (!wellFormed(out)) throw new Error(`invalid UTF-16 in modified UTF-7 mailbox name ${JSON.stringify(wire)}`);
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) throw new Error(`modified UTF-7 encodes a printable ASCII character in ${JSON.stringify(wire)}`);
  }
  return out;
}

/** The name as the server stores it (UTF-8) from its wire form. Throws an Error on invalid modified UTF-7. */
export function decodeMailboxName(wire: string, utf8: boolean): string {
  if (isInbox(wire)) return "INBOX";
  if (utf8) return wire;
  let out = "";
  let i = 0;
  while (i < wire.length) {
    const c = wire.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new Error(`mailbox name ${JSON.stringify(wire)} has characters that modified UTF-7 does not allow`);
    if (c !== 0x26) {
      out += wire[i];
      i++;
      continue;
    }
    const end = wire.indexOf("-", i + 1);
    if (end < 0) throw new Error(`unterminated modified UTF-7 in mailbox name ${JSON.stringify(wire)}`);
    out += end === i + 1 ? "&" : fromModifiedBase64(wire.slice(i + 1, end), wire);
    i = end + 1;
  }
  return isInbox(out) ? "INBOX" : out;
}

function toModifiedBase64(run: string): string {
  const bytes = Buffer.alloc(run.length * 2);
  for (let i = 0; i < run.length; i++) bytes.writeUInt16BE(run.charCodeAt(i), i * 2);
  return bytes.toString("base64").replace(/=+$/, "").replace(/\//g, ",");
}

/** The wire form of a stored (UTF-8) name, to be passed through `astring`. */
export function encodeMailboxName(name: string, utf8: boolean): string {
  if (isInbox(name)) return "INBOX";
  if (utf8) return name;
  let out = "";
  let run = "";
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c <= 0x7e) {
      if (run) {
        out += `&${toModifiedBase64(run)}-`;
        run = "";
      }
      out += c === 0x26 ? "&-" : ch;
    } else run += ch;
  }
  if (run) out += `&${toModifiedBase64(run)}-`;
  return out;
}
