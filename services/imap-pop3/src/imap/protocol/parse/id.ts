import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

/** ID SP ("(" string SP nstring *(SP string SP nstring) ")" / NIL) (RFC 2971). */
export function parseId(r: Reader): Command {
  r.sp();
  if (r.tryKeyword("NIL")) return { name: "ID", params: null };
  r.expectChar("(", `"(" or NIL`);
  const params: Record<string, string | null> = Object.create(null) as Record<string, string | null>;
  if (r.tryChar(")")) return { name: "ID", params };
  let count = 0;
  do {
    const field = r.string("an ID field name");
    r.sp();
    const value = r.nstring("an ID value");
    if (++count > 30) r.fail("too many ID fields");
    params[field] = value;
  } while (r.trySp());
  r.expectChar(")", `")" closing the ID list`);
  return { name: "ID", params };
}
