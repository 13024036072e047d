import { isPrivateAddress } from "@postline/ip";
import { organizationalDomain } from "./address.ts";
import { relayHopsBelowTop, type RelayHop } from "./received.ts";
import type { Rule } from "./rule.ts";

/**
 * A relay recorded that its client greeted with an IP address (HELO 200.161.16.132) while it
 * connected from an address in another network: bulk software driving an open proxy or relay
 * greets with an address it made up or copied. A mail server that greets with an address uses its
 * own. Private and loopback addresses are left out (NAT, local injection), as is a neighbour in the
 * same /16 (multi-homed hosts), a client of the receiving server's own network (a dial-up
 * customer's mail program submitting: those greet with anything), and the topmost field, our own,
 * which the session's own symbols judge.
 */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

const network = (ip: string) => ip.split(".").slice(0, 2).join(".");

function mismatch({ helo, ip, reverseName, by }: RelayHop): string | null {
  if (!ip || !IPV4.test(helo) || isPrivateAddress(helo) || isPrivateAddress(ip) || network(helo) === network(ip)) return null;
  if (reverseName && by && organizationalDomain(reverseName) === organizationalDomain(by)) return null;
  return `HELO ${helo} from ${ip}`;
}

export const heloIpMismatchRule: Rule = {
  name: "helo-ip-mismatch",
  check({ content }) {
    for (const hop of relayHopsBelowTop(content)) {
      const found = mismatch(hop);
      if (found) return [{ name: "RCVD_HELO_IP_MISMATCH", detail: found }];
    }
    return [];
  },
};
