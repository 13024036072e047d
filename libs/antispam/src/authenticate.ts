import type { Readable } from "node:stream";
import { authenticate } from "mailauth";
import type { DnsResolve } from "./dns.ts";
import { normalizeIp } from "./reverse-name.ts";

export type AuthOutcome = Awaited<ReturnType<typeof authenticate>>;

export interface AuthInput {
  message: Readable | Buffer;
  ip: string;
  helo: string;
  mailFrom: string;
  /** Our host name: the authserv-id of Authentication-Results. */
  mta: string;
  resolver: DnsResolve;
}

/** SPF, DKIM, DMARC, ARC and BIMI (lookup only) with mailauth, and the Authentication-Results value. */
export async function authenticateMessage(input: AuthInput): Promise<{ outcome: AuthOutcome; authResults: string }> {
  const outcome = await authenticate(input.message, {
    ip: normalizeIp(input.ip),
    helo: input.helo,
    sender: input.mailFrom,
    mta: input.mta,
    resolver: input.resolver,
  });
  return { outcome, authResults: authResultsValue(outcome.headers, input.mta) };
}

/** The value (after "Authentication-Results: ") of the field mailauth formatted, folding kept. */
export function authResultsValue(headers: string, mta: string): string {
  const fields = headers.split(/\r\n(?![ \t])/);
  const field = fields.find((f) => /^authentication-results:/i.test(f));
  if (!field) return `${mta}; none`;
  return field.slice(field.indexOf(":") + 1).trimStart().replace(/\r\n$/, "");
}
