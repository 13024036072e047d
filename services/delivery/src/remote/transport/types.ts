/** The envelope of one outbound message, as the remote transport sends it. */
export interface OutboundEnvelope {
  /** "" = the null sender (bounces, DSNs). */
  mailFrom: string;
  /** The message needs SMTPUTF8 (UTF-8 addresses or headers, RFC 6531). */
  smtpUtf8: boolean;
  body: "7BIT" | "8BITMIME" | "BINARYMIME";
  ret?: "FULL" | "HDRS";
  envid?: string;
  size: number;
}

export interface OutboundRecipient {
  address: string;
  notify?: ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[];
  /** Original recipient: "rfc822;user@example.test" (or a bare address, taken as rfc822), decoded (not xtext). */
  orcpt?: string;
}

/**
 * The result for one recipient. `error` is the remote reply as received ("550 5.1.1 <x@y>: no such user")
 * or our own description; `host` is "name [address]".
 */
export type RecipientOutcome =
  | { recipient: string; kind: "delivered"; reply: string; host: string; remoteSupportsDsn: boolean }
  | { recipient: string; kind: "temporary"; status: string; error: string; host?: string }
  | { recipient: string; kind: "permanent"; status: string; error: string; host?: string };

export interface TransportSettings {
  /** EHLO name. */
  heloName: string;
  /** Port of every MX host (25; tests use another). */
  port: number;
  /** "127.0.0.1:5353" style; [] = the system resolver. */
  dnsServers: string[];
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /** A connection kept for reuse closes after this long idle. */
  idleConnectionMs: number;
  /** A connection is closed after this many transactions. */
  maxMessagesPerConnection: number;
}

export interface RouteHost {
  name: string;
  preference: number;
  addresses: string[];
}

/** Where mail for a domain goes. Temporary DNS failures are thrown (`DnsLookupError`), not returned. */
export type Route = { kind: "hosts"; hosts: RouteHost[] } | { kind: "null-mx" } | { kind: "no-such-domain" };
