import type { DnsResolve } from "./dns.ts";
import { normalizeIp, reverseName } from "./reverse-name.ts";

export interface DnsblListing {
  zone: string;
  /** The 127.0.0.x return codes, which say why the address is listed. */
  codes: string[];
}

/**
 * Looks the client address up in each DNSBL zone. Only 127.0.0.0/8 answers count as a listing (anything
 * else is a zone's error signal or a wildcard); lookup failures count as "not listed".
 */
export async function lookupDnsbl(ip: string, zones: string[], resolve: DnsResolve): Promise<DnsblListing[]> {
  const address = normalizeIp(ip);
  const lookups = zones.map(async (zone): Promise<DnsblListing | null> => {
    const name = reverseName(address, zone);
    if (!name) return null;
    try {
      const answers = ((await resolve(name, "A")) as string[]).filter((a) => a.startsWith("127."));
      return answers.length > 0 ? { zone, codes: answers } : null;
    } catch {
      return null;
    }
  });
  return (await Promise.all(lookups)).filter((l): l is DnsblListing => l !== null);
}
