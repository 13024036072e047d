import { BlockList, isIP, isIPv4, isIPv6 } from "node:net";

// IP address helpers shared by the client checks (greylisting, reputation, lists, login throttling,
// reverse names). Text in, text out: node's `net` validates, these only reshape.

/** An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as node reports IPv4 clients on dual-stack sockets) as IPv4. */
export function plainAddress(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

/**
 * The eight 16-bit groups of an IPv6 address, as numbers: `::` expanded, an embedded IPv4 tail
 * (`::ffff:1.2.3.4`, `64:ff9b::1.2.3.4`) turned into its two groups, a zone id (`%eth0`) dropped.
 */
export function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, -v4[0].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return groups.map((g) => Number.parseInt(g, 16));
}

/** The 32 hex nibbles of an IPv6 address, e.g. for its reverse name under ip6.arpa or a DNSBL. */
export function ipv6Nibbles(address: string): string {
  return ipv6Groups(address)
    .map((g) => g.toString(16).padStart(4, "0"))
    .join("");
}

/**
 * A client's network for per-sender state (greylisting, reputation, login throttling): IPv4 /24 and
 * IPv6 /64 (the smallest block one subscriber usually gets), e.g. `192.0.2.0/24`,
 * `2001:db8:0:12::/64`. IPv4-mapped addresses count as IPv4. Null when `ip` is not an address.
 */
export function clientNetwork(ip: string): string | null {
  const address = plainAddress(ip);
  if (isIPv4(address)) return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  if (isIPv6(address)) return `${ipv6Groups(address).slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
  return null;
}

/** The network address of `address/prefix` in canonical text (RFC 5952 for IPv6), e.g. (`192.0.2.77`, 24) → `192.0.2.0`. */
export function networkAddress(address: string, prefix: number): string {
  const version = isIP(address);
  if (version === 0) throw new TypeError(`not an IP address: ${address}`);
  const bytes = version === 4 ? address.split(".").map(Number) : ipv6Groups(address).flatMap((g) => [g >> 8, g & 0xff]);
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    return keep === 0 ? 0 : b & (0xff << (8 - keep)) & 0xff;
  });
  if (version === 4) return masked.join(".");
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((masked[i]! << 8) | masked[i + 1]!);
  return compressIpv6(groups);
}

/** RFC 5952 text of eight groups: lower-case hex, the longest run (of two or more) of zero groups as "::". */
export function compressIpv6(groups: number[]): string {
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}

/** A site's own networks: "this network", loopback, RFC 1918, link-local; IPv6 loopback, unique-local (RFC 4193) and link-local. */
export const PRIVATE_NETWORKS: ReadonlyArray<readonly [network: string, prefix: number, family: "ipv4" | "ipv6"]> = [
  ["0.0.0.0", 8, "ipv4"],
  ["127.0.0.0", 8, "ipv4"],
  ["10.0.0.0", 8, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["169.254.0.0", 16, "ipv4"],
  ["::1", 128, "ipv6"],
  ["fc00::", 7, "ipv6"],
  ["fe80::", 10, "ipv6"],
];

const privateNetworks = new BlockList();
for (const [network, prefix, family] of PRIVATE_NETWORKS) privateNetworks.addSubnet(network, prefix, family);

/** Whether `ip` (IPv4, IPv6 or IPv4-mapped) is in one of PRIVATE_NETWORKS; false for text that is not an address. */
export function isPrivateAddress(ip: string): boolean {
  const address = plainAddress(ip);
  if (isIPv4(address)) return privateNetworks.check(address, "ipv4");
  if (isIPv6(address)) return privateNetworks.check(address, "ipv6");
  return false;
}
