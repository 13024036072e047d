import { hostname } from "node:os";
import { field, parseConfig, z, type Env, type PlatformConfig } from "@postline/config";
import { checkTlsFileSettings, listenerPort } from "@postline/tls";

const MiB = 1024 * 1024;

const ms = (fallback: number) =>
  z.coerce.number({ message: "must be a number of milliseconds" }).int("must be a whole number").min(0, "must be 0 or more").default(fallback);

const optionalPort = () => z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(0).max(65535, "must be at most 65535").optional();

/** The IMAP/POP3 service's own settings (environment variables), read when the service starts. */
export const imapSchema = z.object({
  /** Where the IMAP and POP3 listeners bind. */
  POSTLINE_IMAP_HOST: z.string().default("0.0.0.0"),
  /** Plain IMAP with STARTTLS. Default 143 (1143 in standalone mode when not root); 0 picks a free port. */
  POSTLINE_IMAP_PORT: optionalPort(),
  /** IMAP over implicit TLS. Default 993 (1993). */
  POSTLINE_IMAPS_PORT: optionalPort(),
  /** POP3 with STLS. Default 110 (1110). */
  POSTLINE_POP3_PORT: optionalPort(),
  /** POP3 over implicit TLS. Default 995 (1995). */
  POSTLINE_POP3S_PORT: optionalPort(),
  /** This host's name: certificate subject of the generated self-signed certificate. */
  POSTLINE_HOSTNAME: z.string().min(1).default(hostname()),
  POSTLINE_TLS_CERT: z.string().optional(),
  POSTLINE_TLS_KEY: z.string().optional(),
  POSTLINE_TLS_RELOAD_INTERVAL_MS: ms(10_000).refine((v) => v > 0, "must be positive"),
  /** APPENDLIMIT: the largest message APPEND accepts. */
  POSTLINE_IMAP_APPEND_LIMIT: field.positiveInt(50 * MiB),
  /** Sessions open at once from one client address; more get `* BYE` at connect. */
  POSTLINE_IMAP_MAX_CONNECTIONS_PER_IP: field.positiveInt(50),
  /** Sessions open at once in total. */
  POSTLINE_IMAP_MAX_CONNECTIONS: field.positiveInt(10_000),
  /** Allow LOGIN/AUTHENTICATE without TLS, from loopback clients only (tests, local tools). */
  POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: field.bool(false),
  /** Longest command line in octets (outside literals). */
  POSTLINE_IMAP_MAX_LINE_LENGTH: field.positiveInt(64 * 1024),
  /** Largest literal other than an APPEND message. */
  POSTLINE_IMAP_MAX_LITERAL_SIZE: field.positiveInt(64 * 1024),
  /** Idle time before authentication. */
  POSTLINE_IMAP_PREAUTH_TIMEOUT_MS: ms(60_000).refine((v) => v > 0, "must be positive"),
  /** Idle time once authenticated (RFC 9051: at least 30 minutes). */
  POSTLINE_IMAP_IDLE_TIMEOUT_MS: ms(30 * 60_000).refine((v) => v > 0, "must be positive"),
  /** How long one IDLE command may last before the server ends the session with BYE. */
  POSTLINE_IMAP_IDLE_MAX_MS: ms(29 * 60_000).refine((v) => v > 0, "must be positive"),
  /** An IDLE session re-reads its mailbox this often even without a notification (safety net if the bus is slow). */
  POSTLINE_IMAP_IDLE_POLL_MS: ms(30_000).refine((v) => v > 0, "must be positive"),
  /** Memory for whole small messages (≤ 256 KiB) shared by the sessions, so repeated body fetches skip the blob store; 0 turns it off. */
  POSTLINE_IMAP_BLOB_CACHE_MB: z.coerce.number({ message: "must be a number of MiB" }).int("must be a whole number").min(0, "must be 0 or more").default(32),
  /** BAD replies after which a session is closed. */
  POSTLINE_IMAP_MAX_BAD_COMMANDS: field.positiveInt(20),
  /** Failed authentications after which a session is closed. */
  POSTLINE_IMAP_MAX_AUTH_FAILURES: field.positiveInt(3),
  /** On stop: how long commands in flight may take before their sessions are cut. */
  POSTLINE_IMAP_SHUTDOWN_GRACE_MS: ms(10_000),
});

export type ImapSettingsRaw = z.infer<typeof imapSchema>;

export interface ImapSettings extends Omit<ImapSettingsRaw, "POSTLINE_IMAP_PORT" | "POSTLINE_IMAPS_PORT" | "POSTLINE_POP3_PORT" | "POSTLINE_POP3S_PORT"> {
  POSTLINE_IMAP_PORT: number;
  POSTLINE_IMAPS_PORT: number;
  POSTLINE_POP3_PORT: number;
  POSTLINE_POP3S_PORT: number;
}

/**
 * Reads the settings. Ports below 1024 need root: in standalone mode a normal user gets 1143, 1993,
 * 1110 and 1995 unless the port is set explicitly (like the MX's 2525).
 */
export function parseImapSettings(env: Env, config?: Pick<PlatformConfig, "POSTLINE_MODE">): ImapSettings {
  const s = parseConfig(imapSchema, env);
  checkTlsFileSettings(s);
  const port = (value: number | undefined, standard: number) => listenerPort(value, standard, config);
  return {
    ...s,
    POSTLINE_IMAP_PORT: port(s.POSTLINE_IMAP_PORT, 143),
    POSTLINE_IMAPS_PORT: port(s.POSTLINE_IMAPS_PORT, 993),
    POSTLINE_POP3_PORT: port(s.POSTLINE_POP3_PORT, 110),
    POSTLINE_POP3S_PORT: port(s.POSTLINE_POP3S_PORT, 995),
  };
}
