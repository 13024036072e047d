import { dmarc, spf } from "mailauth";
import { createDnsResolver, type DnsResolve } from "./dns.ts";
import { lookupDnsbl } from "./dnsbl.ts";
import { normalizeIp } from "./reverse-name.ts";

/** An SMTP refusal decided during the session, so nothing is accepted that would later bounce. */
export interface Rejection {
  code: number;
  enhanced: string;
  message: string;
  /** The rule that decided it, as in the spam filter's symbols (for logs and metrics). */
  symbol: string;
}

export interface SessionPolicyOptions {
  /** DNSBL zones checked at connect (e.g. `zen.spamhaus.org`). None: no DNSBL check. */
  dnsblZones?: string[];
  /** Defaults to the system's resolver. */
  resolver?: DnsResolve;
  /** Refuse clients listed on a DNSBL at connect (default true; needs zones). */
  rejectDnsblAtConnect?: boolean;
  /** Refuse MAIL FROM when SPF fails for a domain whose DMARC policy is reject (default true). */
  rejectSpfFailDmarcReject?: boolean;
  /** Our host name, the receiving MTA in SPF evaluation. */
  hostname?: string;
}

export interface SessionPolicy {
  checkConnect(ip: string): Promise<Rejection | null>;
  checkMailFrom(input: { ip: string; helo: string; mailFrom: string }): Promise<Rejection | null>;
}

/**
 * The checks that can be decided during the SMTP session. DNS failures never refuse: the message then
 * gets the full classification after acceptance.
 */
export function createSessionPolicy(options: SessionPolicyOptions = {}): SessionPolicy {
  const resolver = options.resolver ?? createDnsResolver();
  const zones = options.dnsblZones ?? [];
  const dnsblEnabled = (options.rejectDnsblAtConnect ?? true) && zones.length > 0;
  const spfDmarcEnabled = options.rejectSpfFailDmarcReject ?? true;

  return {
    async checkConnect(ip) {
      if (!dnsblEnabled) return null;
      const listings = await lookupDnsbl(ip, zones, resolver);
      const first = listings[0];
      if (!first) return null;
      return {
        code: 554,
        enhanced: "5.7.1",
        message: `Client host ${normalizeIp(ip)} is listed on ${first.zone}`,
        symbol: "RBL_LISTED",
      };
    },

    async checkMailFrom({ ip, helo, mailFrom }) {
      if (!spfDmarcEnabled) return null;
      const domain = domainOf(mailFrom);
      if (!domain) return null; // null sender: SPF would use HELO; never refuse bounces here
      try {
        const spfResult = await spf({ sender: mailFrom, ip: normalizeIp(ip), helo, mta: options.hostname, resolver });
        if (spfResult.status.result !== "fail") return null;
        // DMARC has no message yet: evaluate the envelope domain as the author domain, nothing aligned,
        // only to learn the effective policy (own record, else the organizational domain's sp/np).
        const policy = await dmarc({ headerFrom: mailFrom, spfDomains: [], dkimDomains: [], resolver });
        if (!policy || policy.policy !== "reject") return null;
        return {
          code: 550,
          enhanced: "5.7.1",
          message: `SPF check failed for ${domain} and its DMARC policy is reject`,
          symbol: "SPF_FAIL_DMARC_REJECT",
        };
      } catch {
        return null;
      }
    },
  };
}

function domainOf(address: string): string | null {
  const at = address.lastIndexOf("@");
  if (at < 0 || at === address.length - 1) return null;
  return address.slice(at + 1).toLowerCase();
}
