import { isIPv4, isIPv6 } from "node:net";
import { ipv6Nibbles, plainAddress } from "@postline/ip";

/** The reversed-label form of an address under a zone: `4.3.2.1.<zone>`, IPv6 as reversed nibbles. */
export function reverseName(ip: string, zone: string): string | null {
  if (isIPv4(ip)) return `${ip.split(".").reverse().join(".")}.${zone}`;
  if (isIPv6(ip)) return `${ipv6Nibbles(ip).split("").reverse().join(".")}.${zone}`;
  return null;
}

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as node reports IPv4 clients on dual-stack sockets) as IPv4. */
export const normalizeIp = plainAddress;
