import { Resolver } from "node:dns/promises";
import type { Route, RouteHost } from "./types.ts";

/** A DNS failure that may go away (SERVFAIL, timeout, refused): the delivery is retried later. */
export class DnsLookupError extends Error {
  constructor(
    /** The name that was looked up. */
    readonly lookedUp: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DnsLookupError";
  }
}

/** Answers that say the name or the record type does not exist: final, not a failure to look up. */
const NO_SUCH_NAME = new Set(["ENOTFOUND"]);
const NO_DATA = new Set(["ENODATA"]);

export interface RouteResolverOptions {
  /** "127.0.0.1:5353" style; [] = the system resolver. */
  dnsServers: string[];
  /** Per-query timeout, default 5000 ms. */
  timeoutMs?: number;
  /** Tries per query, default 2. */
  tries?: number;
}

/**
 * Finds where mail for a domain goes (RFC 5321 section 5.1): the MX hosts in preference order (random
 * order among equal preferences) with their IPv4 and IPv6 addresses, the implicit MX (the domain's own
 * A/AAAA records) when the domain has no MX records, a null MX (RFC 7505), or a domain that does not exist.
 */
export class RouteResolver {
  private readonly resolver: Resolver;

  constructor(options: RouteResolverOptions) {
    this.resolver = new Resolver({ timeout: options.timeoutMs ?? 5000, tries: options.tries ?? 2 });
    if (options.dnsServers.length > 0) this.resolver.setServers(options.dnsServers);
  }

  /** Throws DnsLookupError for temporary DNS failures. */
  async resolve(domain: string): Promise<Route> {
    const name = domain.replace(/\.$/, "").toLowerCase();
    let records: { exchange: string; priority: number }[];
    try {
      records = await this.resolver.resolveMx(name);
    } catch (err) {
      const code = errorCode(err);
      if (NO_SUCH_NAME.has(code)) return { kind: "no-such-domain" };
      if (!NO_DATA.has(code)) throw lookupError(name, "MX", err);
      records = [];
    }
    if (records.length === 0) {
      // No MX records: the domain itself is the implicit MX with preference 0 (RFC 5321 5.1).
      const { addresses, error } = await this.addressesOf(name);
      if (addresses.length === 0 && error) throw error;
      return { kind: "hosts", hosts: addresses.length > 0 ? [{ name, preference: 0, addresses }] : [] };
    }
    const exchanges = records.map((r) => ({ name: r.exchange.replace(/\.$/, "").toLowerCase(), preference: r.priority }));
    // RFC 7505: a single MX record with the root as exchange says the domain accepts no mail.
    if (exchanges.length === 1 && exchanges[0]!.name === "") return { kind: "null-mx" };
    const real = exchanges.filter((e) => e.name !== "");
    if (real.length === 0) return { kind: "null-mx" };
    const ordered = orderByPreference(real);
    const lookups = await Promise.all(ordered.map((e) => this.addressesOf(e.name)));
    const hosts: RouteHost[] = ordered.map((e, i) => ({ ...e, addresses: lookups[i]!.addresses }));
    if (hosts.every((h) => h.addresses.length === 0)) {
      const error = lookups.find((l) => l.error)?.error;
      if (error) throw error;
    }
    return { kind: "hosts", hosts };
  }

  /** IPv4 then IPv6 addresses of a host; NXDOMAIN/NODATA give none, other failures are reported in `error`. */
  private async addressesOf(host: string): Promise<{ addresses: string[]; error?: DnsLookupError }> {
    const [v4, v6] = await Promise.all([
      this.lookup(host, "A", () => this.resolver.resolve4(host)),
      this.lookup(host, "AAAA", () => this.resolver.resolve6(host)),
    ]);
    const addresses = [...new Set([...v4.addresses, ...v6.addresses])];
    const error = v4.error ?? v6.error;
    return error ? { addresses, error } : { addresses };
  }

  private async lookup(
    host: string,
    type: string,
    query: () => Promise<string[]>,
  ): Promise<{ addresses: string[]; error?: DnsLookupError }> {
    try {
      return { addresses: await query() };
    } catch (err) {
      const code = errorCode(err);
      if (NO_SUCH_NAME.has(code) || NO_DATA.has(code)) return { addresses: [] };
      return { addresses: [], error: lookupError(host, type, err) };
    }
  }
}

/** Ascending preference; hosts of equal preference in random order (RFC 5321 5.1). */
function orderByPreference<T extends { preference: number }>(items: T[]): T[] {
  const shuffled = items.map((item) => ({ item, key: Math.random() }));
  shuffled.sort((a, b) => a.item.preference - b.item.preference || a.key - b.key);
  return shuffled.map((s) => s.item);
}

function errorCode(err: unknown): string {
  return typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string"
    ? (err as { code: string }).code
    : "EUNKNOWN";
}

function lookupError(name: string, type: string, err: unknown): DnsLookupError {
  const code = errorCode(err);
  return new DnsLookupError(name, code, `DNS ${type} lookup for ${name} failed: ${code}`);
}
