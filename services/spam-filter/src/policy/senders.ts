import type { AuthOutcome, ContentView } from "@postline/antispam";
import { clientNetwork } from "@postline/ip";

/** A sender identity of an inbound message, and whether authentication vouches for it. */
export interface SenderIdentity {
  address: string;
  domain: string;
  /**
   * envelope: SPF passed for this MAIL FROM domain. From header: DMARC passed, or a DKIM signature
   * of the From domain (or a parent of it: relaxed alignment) verified.
   */
  authenticated: boolean;
}

export interface Senders {
  /** The envelope sender (MAIL FROM); null for the null sender `<>`. */
  envelope: SenderIdentity | null;
  /** The single From header address; null when missing or not exactly one address. */
  from: SenderIdentity | null;
}

function split(address: string): { address: string; domain: string } | null {
  const a = address.trim().toLowerCase();
  const at = a.lastIndexOf("@");
  if (at <= 0 || at === a.length - 1) return null;
  return { address: a, domain: a.slice(at + 1).replace(/\.$/, "") };
}

/** The passing DKIM signing domains (lower-case). */
export function dkimPassDomains(auth: AuthOutcome | null): string[] {
  const results = auth?.dkim?.results ?? [];
  return [...new Set(results.filter((s) => s.status.result === "pass" && s.signingDomain).map((s) => s.signingDomain.toLowerCase()))];
}

/** The envelope and From addresses of a message with what authenticates each (see SenderIdentity). */
export function sendersOf(mailFrom: string, content: ContentView, auth: AuthOutcome | null): Senders {
  const env = split(mailFrom);
  const spfPass = auth?.spf && auth.spf.status.result === "pass" ? auth.spf.domain?.toLowerCase() : undefined;
  const envelope = env ? { ...env, authenticated: spfPass === env.domain } : null;

  const fromValues = content.parsed.from?.value ?? [];
  const single = fromValues.length === 1 && fromValues[0]?.address ? split(fromValues[0].address) : null;
  let from: SenderIdentity | null = null;
  if (single) {
    const dmarcPass = (auth?.dmarc ? auth.dmarc.status.result === "pass" : false);
    const dkim = dkimPassDomains(auth).some((d) => single.domain === d || single.domain.endsWith(`.${d}`));
    from = { ...single, authenticated: dmarcPass || dkim };
  }
  return { envelope, from };
}

/** The domains an SPF pass (MAIL FROM) or a DMARC pass (From) authenticates: never a merely claimed one. */
export function authenticatedDomains(senders: Senders, auth: AuthOutcome | null): string[] {
  const domains = new Set<string>();
  if (senders.envelope?.authenticated) domains.add(senders.envelope.domain);
  if (senders.from && (auth?.dmarc ? auth.dmarc.status.result === "pass" : false)) domains.add(senders.from.domain);
  return [...domains];
}

/** The reputation key of a client address: its IPv4 /24 or IPv6 /64 network (IPv4-mapped IPv6 as IPv4). */
export const ipReputationKey = clientNetwork;
