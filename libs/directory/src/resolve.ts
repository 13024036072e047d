import type { Queryable } from "@postline/db";
import { InvalidInput } from "./errors.ts";
import { parseAddress, type Address } from "./names.ts";

export interface ResolvedAccount {
  id: number;
  address: string;
}

/** Where mail for one recipient address goes. */
export type Resolution =
  /** Deliver to these local accounts and forward to these remote addresses (at least one of both). */
  | { kind: "deliver"; accounts: ResolvedAccount[]; remote: string[] }
  /** The domain is not one of ours: relaying territory. */
  | { kind: "not-local-domain"; domain: string }
  /** A local domain, but nothing (account, alias, catch-all) takes this address. */
  | { kind: "unknown-user"; address: string }
  /** The only accounts the address leads to are disabled. */
  | { kind: "disabled"; address: string }
  | { kind: "invalid-address"; reason: string };

export interface ResolveOptions {
  /** How many alias hops to follow (default 10); deeper destinations are taken as they are. */
  maxDepth?: number;
  /** Sub-addressing: `user+tag@domain` falls back to `user@domain`. null turns it off. Default "+". */
  subaddressDelimiter?: string | null;
}

/**
 * Resolves a recipient the way an MTA's virtual alias table does: aliases first (recursively, an
 * alias may name several destinations, local or remote, and may include its own address to keep a
 * copy), then the account itself, then `user` for `user+tag`, then the domain's catch-all.
 * An address met again on the same path (a loop) or beyond `maxDepth` is not expanded further.
 */
export async function resolveRecipient(db: Queryable, address: string, options: ResolveOptions = {}): Promise<Resolution> {
  const maxDepth = options.maxDepth ?? 10;
  const delimiter = options.subaddressDelimiter === undefined ? "+" : options.subaddressDelimiter;

  let start: Address;
  try {
    start = parseAddress(address);
  } catch (err) {
    if (err instanceof InvalidInput) return { kind: "invalid-address", reason: err.message };
    throw err;
  }

  const domains = new Map<string, { catchAll: string | null } | null>();
  const lookupDomain = async (name: string) => {
    if (!domains.has(name)) {
      const r = await db.query<{ catch_all: string | null }>("SELECT catch_all FROM domains WHERE name = $1", [name]);
      domains.set(name, r.rows[0] ? { catchAll: r.rows[0].catch_all } : null);
    }
    return domains.get(name)!;
  };

  const startDomain = await lookupDomain(start.domain);
  if (!startDomain) return { kind: "not-local-domain", domain: start.domain };

  const accounts = new Map<number, ResolvedAccount>();
  const remote = new Set<string>();
  let sawDisabled = false;

  // True when the address led somewhere (an account, a remote address, or an alias).
  const visit = async (addr: Address, depth: number, path: ReadonlySet<string>): Promise<boolean> => {
    const domain = await lookupDomain(addr.domain);
    if (!domain) {
      remote.add(addr.address);
      return true;
    }
    const expandable = depth < maxDepth && !path.has(addr.address);
    if (expandable) {
      const r = await db.query<{ destination: string }>("SELECT destination FROM aliases WHERE source = $1 ORDER BY destination", [addr.address]);
      if (r.rows.length > 0) {
        const next = new Set(path).add(addr.address);
        let any = false;
        for (const { destination } of r.rows) {
          const dest = tryParse(destination);
          if (dest && (await visit(dest, depth + 1, next))) any = true;
        }
        return any;
      }
    }
    const a = await db.query<{ id: number; disabled: boolean }>("SELECT id, disabled FROM accounts WHERE address = $1", [addr.address]);
    if (a.rows[0]) {
      if (a.rows[0].disabled) {
        sawDisabled = true;
        return false;
      }
      accounts.set(a.rows[0].id, { id: a.rows[0].id, address: addr.address });
      return true;
    }
    if (delimiter && addr.localPart.includes(delimiter)) {
      const base = addr.localPart.slice(0, addr.localPart.indexOf(delimiter));
      const baseAddr = base ? tryParse(`${base}@${addr.domain}`) : null;
      if (baseAddr && (await visit(baseAddr, depth, path))) return true;
    }
    const catchAllKey = `@${addr.domain}`;
    if (domain.catchAll && depth < maxDepth && !path.has(catchAllKey)) {
      const target = tryParse(domain.catchAll);
      if (target) return visit(target, depth + 1, new Set(path).add(catchAllKey));
    }
    return false;
  };

  await visit(start, 0, new Set());
  if (accounts.size > 0 || remote.size > 0) return { kind: "deliver", accounts: [...accounts.values()], remote: [...remote] };
  return sawDisabled ? { kind: "disabled", address: start.address } : { kind: "unknown-user", address: start.address };
}

function tryParse(address: string): Address | null {
  try {
    return parseAddress(address);
  } catch {
    return null;
  }
}
