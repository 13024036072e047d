import { Resolver } from "node:dns/promises";
import { isIP } from "node:net";

export type ReverseLookup = (ip: string) => Promise<string | undefined>;

/**
 * Forward-confirmed reverse DNS: the first PTR name of the address whose A/AAAA records lead back
 * to it, or undefined (no PTR, no match, a lookup error or the time limit). Never throws.
 */
export function forwardConfirmedReverse(options: { servers?: string[]; timeoutMs: number }): ReverseLookup {
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(options.timeoutMs / 2)), tries: 1 });
  if (options.servers?.length) resolver.setServers(options.servers);
  return async (ip) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), options.timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([lookup(resolver, ip), deadline]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };
}

async function lookup(resolver: Resolver, ip: string): Promise<string | undefined> {
  const names = await resolver.reverse(ip);
  const family = isIP(ip);
  for (const name of names.slice(0, 3)) {
    if (!isHostname(name)) continue;
    const forward = await (family === 6 ? resolver.resolve6(name) : resolver.resolve4(name)).catch(() => [] as string[]);
    if (forward.some((a) => a.toLowerCase() === ip.toLowerCase())) return name.toLowerCase().replace(/\.$/, "");
  }
  return undefined;
}

// A PTR record is controlled by whoever owns the address: only plain host names are used.
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
function isHostname(name: string): boolean {
  const n = name.replace(/\.$/, "");
  return n.length > 0 && n.length <= 253 && n.split(".").every((l) => LABEL.test(l));
}

/**
 * Reuses each address's answer for `ttlMs` (0: no cache): a sending MTA opens many sessions from
 * one address, and each would otherwise cost a PTR and a forward lookup before the greeting.
 * Concurrent sessions from one address share the lookup in flight. No name (which is also what a
 * timeout gives) is kept at most 10 s. At most `maxEntries` addresses are remembered (oldest first out).
 */
export function cachedReverseLookup(lookup: ReverseLookup, ttlMs: number, maxEntries = 10_000, now: () => number = Date.now): ReverseLookup {
  if (ttlMs <= 0) return lookup;
  const entries = new Map<string, { expires: number; name: Promise<string | undefined> }>();
  return (ip) => {
    const t = now();
    const hit = entries.get(ip);
    if (hit && hit.expires > t) return hit.name;
    if (hit) entries.delete(ip);
    const name = lookup(ip);
    const entry = { expires: t + ttlMs, name };
    entries.set(ip, entry);
    void name.then((n) => {
      if (n === undefined) entry.expires = Math.min(entry.expires, now() + 10_000);
    });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    return name;
  };
}
