import { isIPv4 } from "node:net";
import { isNoRecord, type DnsResolve } from "../dns.ts";
import { normalizeIp, reverseName } from "../reverse-name.ts";
import type { Rule } from "./rule.ts";

/** The client needs a PTR whose name resolves back to its address (forward-confirmed reverse DNS). */
export const reverseDnsRule: Rule = {
  name: "reverse-dns",
  sources: ["inbound"],
  async check({ client, resolver }) {
    const ip = normalizeIp(client.ip);
    const ptrName = reverseName(ip, isIPv4(ip) ? "in-addr.arpa" : "ip6.arpa");
    if (!ptrName) return [];
    let names: string[];
    try {
      names = (await resolver(ptrName, "PTR")) as string[];
    } catch (err) {
      return isNoRecord(err) ? [{ name: "RDNS_NONE" }] : []; // a DNS failure is no evidence
    }
    if (names.length === 0) return [{ name: "RDNS_NONE" }];
    for (const name of names.slice(0, 5)) {
      if (await resolvesTo(name, ip, resolver)) return [];
    }
    return [{ name: "RDNS_NOT_CONFIRMED", detail: names[0] }];
  },
};

async function resolvesTo(name: string, ip: string, resolver: DnsResolve): Promise<boolean> {
  try {
    const addresses = (await resolver(name, isIPv4(ip) ? "A" : "AAAA")) as string[];
    return addresses.some((a) => a.toLowerCase() === ip.toLowerCase());
  } catch {
    return false;
  }
}
