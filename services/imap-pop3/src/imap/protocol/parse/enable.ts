import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

/** ENABLE 1*(SP capability) (RFC 5161); capabilities upper-cased. */
export function parseEnable(r: Reader): Command {
  const capabilities: string[] = [];
  r.sp();
  do {
    const cap = r.atom("a capability").toUpperCase();
    if (!capabilities.includes(cap)) capabilities.push(cap);
  } while (r.trySp());
  return { name: "ENABLE", capabilities };
}
