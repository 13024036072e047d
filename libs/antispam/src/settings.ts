import { hostname } from "node:os";
import { field, z } from "@postline/config";
import { createDnsResolver, type DnsResolve } from "./dns.ts";
import type { SessionPolicyOptions } from "./session.ts";

/** Settings shared by the spam filter and the SMTP session checks of inbound-mx. */
export const antispamSchema = z.object({
  /** `host:port` list; empty = the system's resolvers. */
  POSTLINE_DNS_SERVERS: field.list().default([]),
  /** Seconds DNS answers are reused in process (0: every lookup goes to the resolver). */
  POSTLINE_DNS_CACHE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** How long one try of a spam-filter lookup (SPF, DKIM, DMARC, PTR, DNSBL) waits; inbound-mx's session lookups have POSTLINE_MX_DNS_TIMEOUT_MS. */
  POSTLINE_DNS_TIMEOUT_MS: field.positiveInt(3000),
  /** Tries per lookup before it counts as a temporary failure (SPF/DMARC temperror, no DNSBL answer). */
  POSTLINE_DNS_TRIES: field.positiveInt(2),
  /** DNSBL zones, e.g. `zen.spamhaus.org,bl.spamcop.net`; empty = no DNSBL checks. */
  POSTLINE_DNSBL_ZONES: field.list().default([]),
  /** Our host name in Authentication-Results and as the SPF receiving MTA. */
  POSTLINE_HOSTNAME: z.string().min(1).default(hostname()),
  POSTLINE_SPAM_JUNK_SCORE: z.coerce.number().default(5),
  POSTLINE_SPAM_QUARANTINE_SCORE: z.coerce.number().default(10),
  POSTLINE_SPAM_REJECT_SCORE: z.coerce.number().default(15),
  /** Bytes of each message parsed for the content rules (authentication always reads it all). */
  POSTLINE_SPAM_MAX_CONTENT_BYTES: field.positiveInt(4 * 1024 * 1024),
  /** Session checks in inbound-mx: refuse DNSBL-listed clients at connect, SPF fail + DMARC reject at MAIL FROM. */
  POSTLINE_SESSION_REJECT_DNSBL: field.bool(true),
  POSTLINE_SESSION_REJECT_SPF_DMARC: field.bool(true),
});

export type AntispamSettings = z.infer<typeof antispamSchema>;

/** The resolver the settings describe: POSTLINE_DNS_SERVERS (or the system's), with the in-process cache. */
export function resolverFromSettings(
  settings: Pick<AntispamSettings, "POSTLINE_DNS_SERVERS" | "POSTLINE_DNS_CACHE_SECONDS" | "POSTLINE_DNS_TIMEOUT_MS" | "POSTLINE_DNS_TRIES">,
): DnsResolve {
  return createDnsResolver(settings.POSTLINE_DNS_SERVERS.length > 0 ? settings.POSTLINE_DNS_SERVERS : undefined, {
    timeoutMs: settings.POSTLINE_DNS_TIMEOUT_MS,
    tries: settings.POSTLINE_DNS_TRIES,
    cacheTtlMs: settings.POSTLINE_DNS_CACHE_SECONDS * 1000,
  });
}

/** Options of createSessionPolicy (inbound-mx) from the settings. */
export function sessionPolicyOptionsFromSettings(settings: AntispamSettings): SessionPolicyOptions {
  return {
    resolver: resolverFromSettings(settings),
    dnsblZones: settings.POSTLINE_DNSBL_ZONES,
    rejectDnsblAtConnect: settings.POSTLINE_SESSION_REJECT_DNSBL,
    rejectSpfFailDmarcReject: settings.POSTLINE_SESSION_REJECT_SPF_DMARC,
    hostname: settings.POSTLINE_HOSTNAME,
  };
}
