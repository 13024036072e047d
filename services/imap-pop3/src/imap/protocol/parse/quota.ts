import type { Command } from "../types.ts";
import type { Reader } from "./reader.ts";

/** GETQUOTA SP quota-root (RFC 9208). */
export function parseGetQuota(r: Reader): Command {
  r.sp();
  return { name: "GETQUOTA", root: r.astring("a quota root") };
}

/** GETQUOTAROOT SP mailbox. */
export function parseGetQuotaRoot(r: Reader): Command {
  r.sp();
  return { name: "GETQUOTAROOT", mailbox: r.astring("a mailbox name") };
}

/** SETQUOTA SP quota-root SP "(" [resource SP number64 *(SP resource SP number64)] ")". */
export function parseSetQuota(r: Reader): Command {
  r.sp();
  const root = r.astring("a quota root");
  r.sp();
  r.expectChar("(", "a list of quota limits");
  const limits: Array<{ resource: string; limit: number }> = [];
  if (!r.tryChar(")")) {
    do {
      const resource = r.atom("a quota resource").toUpperCase();
      r.sp();
      limits.push({ resource, limit: r.number(Number.MAX_SAFE_INTEGER, "a quota limit") });
    } while (r.trySp());
    r.expectChar(")", `")" closing the quota limits`);
  }
  return { name: "SETQUOTA", root, limits };
}
