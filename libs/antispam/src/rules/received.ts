import type { ContentView } from "../message.ts";

/** The values of the message's Received fields, topmost first (mailparser gives one field as a string, several as an array). */
export function receivedValues(content: ContentView): string[] {
  const received: unknown = content.parsed.headers.get("received");
  const values = Array.isArray(received) ? received : received === undefined ? [] : [received];
  return values.map((value) => String(value));
}

/**
 * One relay hop as its receiving server recorded it: what the client said in HELO, the reverse
 * name found for it, its address, and the receiving server's name.
 */
export interface RelayHop {
  helo: string;
  reverseName: string | null;
  ip: string | null;
  by: string | null;
}

const FROM_CLAUSE = /^\s*from\s+(\S+)\s*\(([^)]*)\)/i;
const IP = /\[?((?:\d{1,3}\.){3}\d{1,3})\]?/;
const BY_CLAUSE = /^\s*by\s+(\S+)/i;
const HOST_NAME = /^[a-z0-9.-]+\.[a-z]{2,}$/;

/**
 * The client of one Received field. Understood forms: `from HELO (RDNS [IP])` (Postfix, Sendmail),
 * `from HELO (unknown [IP])`, `from HELO ([IP])` (no reverse name), `from RDNS ([IP] helo=HELO)`
 * (Exim), each followed by `by SERVER`. Names are lower-cased, without a trailing dot or an
 * address literal's brackets.
 */
export function relayHop(received: string): RelayHop | null {
  const value = received.replace(/\s+/g, " ");
  const m = FROM_CLAUSE.exec(value);
  if (!m) return null;
  const by = BY_CLAUSE.exec(value.slice(m[0].length))?.[1]?.toLowerCase().replace(/\.$/, "") ?? null;
  const first = m[1]!.toLowerCase().replace(/\.$/, "");
  const inside = m[2]!.toLowerCase();
  const ip = IP.exec(inside)?.[1] ?? null;
  const exim = /\bhelo=(\S+)/.exec(inside);
  if (exim) return { helo: unbracket(exim[1]!.replace(/\.$/, "")), reverseName: HOST_NAME.test(first) ? first : null, ip, by };
  const name = inside.replace(IP, "").trim().split(/\s+/)[0] ?? "";
  const reverseName = name && name !== "unknown" && HOST_NAME.test(name) ? name.replace(/\.$/, "") : null;
  return { helo: unbracket(first), reverseName, ip, by };
}

const unbracket = (helo: string) => helo.replace(/^\[(.*)\]$/, "$1");

const hopsBelowTop = new WeakMap<ContentView, RelayHop[]>();

/** The hops of the Received fields below the topmost (our own MX's), as relayHop reads them; memoized per message. */
export function relayHopsBelowTop(content: ContentView): RelayHop[] {
  let hops = hopsBelowTop.get(content);
  if (!hops) {
    hops = receivedValues(content)
      .slice(1)
      .map(relayHop)
      .filter((hop): hop is RelayHop => hop !== null);
    hopsBelowTop.set(content, hops);
  }
  return hops;
}
