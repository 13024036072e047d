import { field, parseConfig, z, type Env } from "@postline/config";

export const pop3Schema = z.object({
  POSTLINE_POP3_HOST: z.string().default("0.0.0.0"),
  /** POP3 with STLS; 0 picks a free port. */
  POSTLINE_POP3_PORT: field.port(110),
  /** POP3 over implicit TLS; 0 picks a free port. */
  POSTLINE_POP3S_PORT: field.port(995),
  /** Shared with IMAP: allow USER/PASS and AUTH without TLS (for tests on loopback only). */
  POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: field.bool(false),
  /** RFC 1939 asks for at least 10 minutes. */
  POSTLINE_POP3_IDLE_TIMEOUT_MS: field.positiveInt(10 * 60_000),
});

export interface Pop3Settings {
  host: string;
  port: number;
  tlsPort: number;
  allowPlaintextAuth: boolean;
  idleTimeoutMs: number;
  /** Longest command line accepted (RFC 2449 says 255; clients exceed it). */
  maxCommandLength: number;
  /** Longest SASL response line accepted. */
  maxSaslLength: number;
  /** Commands answered -ERR before the session is closed. */
  maxBadCommands: number;
}

export function pop3Settings(env: Env): Pop3Settings {
  const c = parseConfig(pop3Schema, env);
  return {
    host: c.POSTLINE_POP3_HOST,
    port: c.POSTLINE_POP3_PORT,
    tlsPort: c.POSTLINE_POP3S_PORT,
    allowPlaintextAuth: c.POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH,
    idleTimeoutMs: c.POSTLINE_POP3_IDLE_TIMEOUT_MS,
    maxCommandLength: 1024,
    maxSaslLength: 8192,
    maxBadCommands: 10,
  };
}
