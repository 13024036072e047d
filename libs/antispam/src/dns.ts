import { Resolver } from "node:dns/promises";
import type { DNSResolver } from "mailauth";
import { cachedResolver } from "./dns-cache.ts";

/**
 * A DNS lookup in the shape mailauth takes as its `resolver` option: `resolve(name, rrtype)` returning
 * node:dns-style records and rejecting with node:dns error codes (ENOTFOUND, ENODATA, ...).
 */
export type DnsResolve = DNSResolver;

export interface DnsResolverOptions {
  /** Per-try timeout in milliseconds. */
  timeoutMs?: number;
  tries?: number;
  /** Reuse answers for this long (default 0: no cache; see cachedResolver). */
  cacheTtlMs?: number;
}

/**
 * A resolver on the given servers (`host:port`, `[v6]:port` or bare hosts), or on the system's
 * servers when none are given.
 */
export function createDnsResolver(servers?: string[], options: DnsResolverOptions = {}): DnsResolve {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 3000, tries: options.tries ?? 2 });
  if (servers && servers.length > 0) resolver.setServers(servers);
  const resolve: DnsResolve = (name, rrtype) => resolver.resolve(name, rrtype) as ReturnType<DNSResolver>;
  return options.cacheTtlMs ? cachedResolver(resolve, { ttlMs: options.cacheTtlMs }) : resolve;
}

/** `POSTLINE_DNS_SERVERS=127.0.0.1:5353,[::1]:53` → the list, or undefined for the system's servers. */
export function parseDnsServers(value: string | undefined): string[] | undefined {
  const servers = (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  return servers.length > 0 ? servers : undefined;
}

/** True for the error codes that mean "no such record", as opposed to a failure to look it up. */
export function isNoRecord(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOTFOUND" || code === "ENODATA" || code === "EBADNAME";
}
