import { receivedValues } from "./received.ts";
import type { Rule } from "./rule.ts";

/**
 * A relay recorded that its client greeted with an IP address (HELO 200.161.16.132) while it
 * connected from an address in another network: bulk software driving an open proxy or relay
 * greets with an address it made up or copied. A mail server that greets with an address uses its
 * own. Private and loopback addresses are left out (NAT, local injection), as is a neighbour in the
 * same /16 (multi-homed hosts), and the topmost field, our own, which the session's own symbols
 * judge.
 */
const FROM_IP_HELO = /^\s*from\s+\[?(\d{1,3}(?:\.\d{1,3}){3})\]?\s+\((?:[^()[]*\s)?\[?(\d{1,3}(?:\.\d{1,3}){3})\]?/i;
const PRIVATE = /^(?:0|10|127|169\.254|192\.168|172\.(?:1[6-9]|2\d|3[01]))\./;

const network = (ip: string) => ip.split(".").slice(0, 2).join(".");

function mismatch(received: string): string | null {
  const m = FROM_IP_HELO.exec(received);
  if (!m) return null;
  const [, helo, client] = m as unknown as [string, string, string];
  if (PRIVATE.test(helo) || PRIVATE.test(client) || network(helo) === network(client)) return null;
  return `HELO ${helo} from ${client}`;
}

export const heloIpMismatchRule: Rule = {
  name: "helo-ip-mismatch",
  check({ content }) {
    for (const received of receivedValues(content).slice(1)) {
      const found = mismatch(received);
      if (found) return [{ name: "RCVD_HELO_IP_MISMATCH", detail: found }];
    }
    return [];
  },
};
