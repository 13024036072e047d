import { isIPv4, isIPv6 } from "node:net";

/** The reversed-label form of an address under a zone: `4.3.2.1.<zone>`, IPv6 as reversed nibbles. */
export function reverseName(ip: string, zone: string): string | null {
  if (isIPv4(ip)) return `${ip.split(".").reverse().join(".")}.${zone}`;
  if (isIPv6(ip)) return `${expandIPv6(ip).split("").reverse().join(".")}.${zone}`;
  return null;
}

/** An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`, as node reports IPv4 clients on dual-stack sockets) as IPv4. */
export function normalizeIp(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

function expandIPv6(ip: string): string {
  let address = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4) {
    const octets = v4[1]!.split(".").map(Number);
    const hex = (a: number, b: number) => ((a << 8) | b).toString(16);
    address = address.slice(0, -v4[1]!.length) + `${hex(octets[0]!, octets[1]!)}:${hex(octets[2]!, octets[3]!)}`;
  }
  const [head, tail] = address.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return groups.map((g) => g.padStart(4, "0")).join("");
}
