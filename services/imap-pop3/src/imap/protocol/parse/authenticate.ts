import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

const BASE64 = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f || c === 0x3d;

/** AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 9051, SASL-IR RFC 4959). */
export function parseAuthenticate(r: Reader): Command {
  r.sp();
  const mechanism = r.atom("a SASL mechanism").toUpperCase();
  if (!r.trySp()) return { name: "AUTHENTICATE", mechanism };
  const initialResponse = r.word(BASE64, "a base64 initial response");
  if (initialResponse !== "=" && !/^[A-Za-z0-9+/]*={0,2}$/.test(initialResponse)) r.fail("bad base64 initial response");
  return { name: "AUTHENTICATE", mechanism, initialResponse };
}
