import { lookupDnsbl } from "../dnsbl.ts";
import type { Rule } from "./rule.ts";

export const dnsblRule: Rule = {
  name: "dnsbl",
  sources: ["inbound"],
  async check({ client, dnsblZones, resolver }) {
    if (dnsblZones.length === 0) return [];
    const listings = await lookupDnsbl(client.ip, dnsblZones, resolver);
    // one symbol however many zones list it; the detail names them
    return listings.length > 0 ? [{ name: "RBL_LISTED", detail: listings.map((l) => `${l.zone}=${l.codes.join("/")}`).join(", ") }] : [];
  },
};
