/**
 * What can be decided about a client during the SMTP session, so that it is refused there rather
 * than bounced later (a DNSBL listing at connect, SPF fail for a domain whose DMARC policy is
 * reject). The rules live in @postline/antispam; this is the shape the MX calls.
 */
export interface Rejection {
  code: number;
  enhanced: string;
  message: string;
  symbol: string;
}

export interface SessionPolicy {
  checkConnect(ip: string): Promise<Rejection | null>;
  checkMailFrom(input: { ip: string; helo: string; mailFrom: string }): Promise<Rejection | null>;
}

/** No session-time rules: everything is left to the spam filter. */
export const acceptAllPolicy: SessionPolicy = {
  checkConnect: async () => null,
  checkMailFrom: async () => null,
};
