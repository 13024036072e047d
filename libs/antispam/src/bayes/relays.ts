import { isPrivateAddress } from "@postline/ip";
import { organizationalDomain } from "../rules/address.ts";
import { relayHop } from "../rules/received.ts";

/**
 * Shape features of the Received fields below the topmost (`rs:`), one hop at a time: whether
 * the receiving relay found a reverse name for the client, what the client said in HELO (an
 * address literal, a bare word, a name), whether that name agrees with the reverse name, whether
 * the reverse name looks dynamic (the address's digits in it), and whether the HELO claims the
 * From domain while the reverse name does not (a forged relay). These are what SpamAssassin's
 * RDNS_NONE, RDNS_DYNAMIC and HELO-mismatch rules look at; as tokens, the models learn their
 * weight. Hops from private or loopback addresses (a site's own internal relays) are skipped; the
 * first public hop from the top (where the message entered the receiving site) is `rs:first:`,
 * the ones before it `rs:later:`. Hops are read by `relayHop`. `fromOrg`: the From address's
 * organizational domain (organizationalDomain), null without one.
 */
export function relayShapeTokens(receivedValues: readonly string[], fromOrg: string | null): string[] {
  const out = new Set<string>();
  let publicHops = 0;
  for (const value of receivedValues.slice(0, 6)) {
    const parsed = relayHop(value);
    if (!parsed) continue;
    const { helo, reverseName: rdns, ip } = parsed;
    if (!ip || isPrivateAddress(ip)) continue;
    const hop = publicHops++ === 0 ? "first" : "later";
    out.add(`rs:${hop}:rdns:${rdns ? "yes" : "none"}`);
    const heloKind = /^[\d.]+$/.test(helo) ? "ip" : helo.includes(".") ? "name" : "bare";
    out.add(`rs:${hop}:helo:${heloKind}`);
    if (rdns && heloKind === "name") {
      out.add(`rs:${hop}:helo-rdns:${helo === rdns ? "same" : organizationalDomain(helo) === organizationalDomain(rdns) ? "org" : "differ"}`);
    }
    if (rdns && looksDynamic(rdns, ip)) out.add(`rs:${hop}:rdns-dynamic`);
    if (fromOrg && heloKind === "name" && organizationalDomain(helo) === fromOrg && (!rdns || organizationalDomain(rdns) !== fromOrg)) {
      out.add("rs:helo-claims-from");
    }
    if (rdns && fromOrg && organizationalDomain(rdns) === fromOrg) out.add("rs:rdns-is-from");
  }
  out.add(`rs:public-hops:${Math.min(publicHops, 3)}`);
  return [...out];
}

/** A reverse name that spells out its address (two of its octets in it) or says what kind of line it is. */
function looksDynamic(rdns: string, ip: string): boolean {
  const octets = ip.split(".");
  const digits: string[] = rdns.match(/\d+/g) ?? [];
  const shared = octets.filter((o) => digits.includes(o)).length;
  return shared >= 2 || /\b(dsl|dhcp|dyn|dynamic|dial|ppp|pool|cable|client|adsl|user)[\d.-]/.test(rdns);
}
