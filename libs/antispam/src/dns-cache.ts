import type { DnsResolve } from "./dns.ts";
import { isNoRecord } from "./dns.ts";

export interface DnsCacheOptions {
  /** How long an answer is reused (node's resolver does not report TTLs for most types). */
  ttlMs: number;
  /** How long "no such record" is reused. */
  negativeTtlMs?: number;
  maxEntries?: number;
}

/**
 * A small in-process cache in front of a resolver: one message makes about ten lookups (SPF, DKIM key,
 * DMARC tree walk, BIMI, PTR, DNSBL) and consecutive messages mostly repeat them. Failures other than
 * "no record" are not cached.
 */
export function cachedResolver(resolve: DnsResolve, options: DnsCacheOptions): DnsResolve {
  const maxEntries = options.maxEntries ?? 10_000;
  const negativeTtlMs = options.negativeTtlMs ?? Math.min(options.ttlMs, 30_000);
  const entries = new Map<string, { expires: number; result: Promise<Awaited<ReturnType<DnsResolve>>> }>();

  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const now = Date.now();
    const hit = entries.get(key);
    if (hit && hit.expires > now) return hit.result;
    if (hit) entries.delete(key);
    const result = resolve(name, rrtype);
    const entry = { expires: now + options.ttlMs, result };
    entries.set(key, entry);
    result.catch((err: unknown) => {
      if (isNoRecord(err)) entry.expires = Date.now() + negativeTtlMs;
      else if (entries.get(key) === entry) entries.delete(key);
    });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!); // oldest first (insertion order)
    return result;
  };
}
