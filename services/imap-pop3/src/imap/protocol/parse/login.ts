import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

/** LOGIN SP userid SP password. */
export function parseLogin(r: Reader): Command {
  r.sp();
  const user = r.astring("a user name");
  r.sp();
  const password = r.astring("a password");
  return { name: "LOGIN", user, password };
}
