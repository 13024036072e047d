import { hostname } from "node:os";
import { field, parseConfig, z, type Env } from "@postline/config";
import { checkTlsFileSettings } from "@postline/tls";
import { checkGreylistNetworks } from "./greylist.ts";

const MiB = 1024 * 1024;

const ms = (fallback: number) =>
  z.coerce.number({ message: "must be a number of milliseconds" }).int("must be a whole number").min(0, "must be 0 or more").default(fallback);

/** The inbound MX's own settings (environment variables), read when the service starts. */
export const mxSchema = z.object({
  /** Where the MX listens. An MX faces the internet, so every interface by default. */
  POSTLINE_MX_HOST: z.string().default("0.0.0.0"),
  POSTLINE_MX_PORT: field.port(25),
  /** This host's public name: greeting, EHLO reply, Received header, and the spam filter's Authentication-Results. */
  POSTLINE_HOSTNAME: z.string().min(1).default(hostname()),
  /** Largest message accepted (advertised in SIZE, enforced while DATA streams in). */
  POSTLINE_MX_MAX_SIZE: field.positiveInt(50 * MiB),
  POSTLINE_MX_MAX_RECIPIENTS: field.positiveInt(100),
  /** Sessions open at once from one client address; more get `421 4.7.0` at connect. */
  POSTLINE_MX_MAX_CONNECTIONS_PER_IP: field.positiveInt(20),
  /** Sessions open at once in total. */
  POSTLINE_MX_MAX_CONNECTIONS: field.positiveInt(1000),
  /** Commands in one session; past it `421 4.7.0` and the connection is closed. */
  POSTLINE_MX_MAX_COMMANDS: field.positiveInt(5000),
  /** Longest command line in octets (RFC 5321: 512 at least; SMTPUTF8 and DSN parameters need more). */
  POSTLINE_MX_MAX_LINE_LENGTH: field.positiveInt(2048),
  /** Idle time while the client owes us input (RFC 5321 4.5.3.2: at least 5 minutes). */
  POSTLINE_MX_IDLE_TIMEOUT_MS: ms(300_000).refine((v) => v > 0, "must be positive"),
  /** Whole session; a message being stored when it runs out is finished first. */
  POSTLINE_MX_SESSION_TIMEOUT_MS: ms(1_800_000).refine((v) => v > 0, "must be positive"),
  /**
   * Pregreet (early-talker) test: a client address not seen passing it recently waits this long for
   * the greeting; one that talks first gets the EARLY_TALKER session symbol. 0 turns the wait off
   * (talking before the connect checks finished is still noticed).
   */
  POSTLINE_MX_GREET_DELAY_MS: ms(1000),
  /** How long an address that passed the pregreet test is greeted without the wait. */
  POSTLINE_MX_GREET_PASS_TTL_MS: ms(24 * 3600_000),
  /**
   * How long a RCPT address that was accepted is accepted again without asking the directory; 0
   * asks every time. Refusals are never cached (see RecipientCache).
   */
  POSTLINE_MX_RECIPIENT_CACHE_MS: ms(5000),
  /** Forward-confirmed reverse DNS of the client at connect (the event's client.hostname). */
  POSTLINE_MX_REVERSE_DNS: field.bool(true),
  POSTLINE_MX_DNS_TIMEOUT_MS: ms(2000),
  /** Expect a PROXY protocol header (v1 or v2) on every connection, e.g. behind a TCP load balancer. */
  POSTLINE_MX_PROXY_PROTOCOL: field.bool(false),
  /** How long to wait for the blob store and the bus after DATA before answering 451. */
  POSTLINE_MX_COMMIT_TIMEOUT_MS: ms(120_000).refine((v) => v > 0, "must be positive"),
  /** On stop: how long sessions in flight may take to finish before they get 421. */
  POSTLINE_MX_SHUTDOWN_GRACE_MS: ms(20_000),
  /** PEM files for STARTTLS, reloaded when they change. */
  POSTLINE_TLS_CERT: z.string().optional(),
  POSTLINE_TLS_KEY: z.string().optional(),
  /** How often the certificate files are checked for changes. */
  POSTLINE_TLS_RELOAD_INTERVAL_MS: ms(10_000).refine((v) => v > 0, "must be positive"),
  // --- Greylisting (./greylist.ts; docs/inbound-mx.md "Greylisting") ---
  /** Greylist at RCPT: the first attempt of a (client network, sender, recipient) triplet gets 451 4.7.1. */
  POSTLINE_GREYLIST: field.bool(false),
  /** Seconds before a retry of a greylisted triplet passes. */
  POSTLINE_GREYLIST_DELAY: z.coerce.number().int().min(0).default(300),
  /** Seconds after the first attempt a retry still passes; later, the triplet is greylisted anew (Postgrey: 2 days). */
  POSTLINE_GREYLIST_RETRY_WINDOW: field.positiveInt(2 * 24 * 3600),
  /** Seconds a triplet that passed is let through after its last use (refreshed on every use). */
  POSTLINE_GREYLIST_REMEMBER: field.positiveInt(35 * 24 * 3600),
  /** A client network whose triplets passed this many times is not greylisted any more (0 = never). */
  POSTLINE_GREYLIST_AUTO_ALLOW_AFTER: z.coerce.number().int().min(0).default(5),
  /** Networks (CIDR or addresses, comma-separated) never greylisted, e.g. partners' relays. */
  POSTLINE_GREYLIST_EXEMPT_NETWORKS: field.list().default([]),
  /** Also never greylist loopback, RFC 1918, unique-local and link-local clients (our own relays). */
  POSTLINE_GREYLIST_EXEMPT_PRIVATE: field.bool(true),
  /** A database failure during the check lets the recipient through (true) or answers 451 4.3.0 (false). */
  POSTLINE_GREYLIST_FAIL_OPEN: field.bool(true),
  // --- end greylisting ---
});

export type MxSettings = z.infer<typeof mxSchema>;

export function parseMxSettings(env: Env): MxSettings {
  const s = parseConfig(mxSchema, env);
  checkTlsFileSettings(s);
  checkGreylistNetworks(s.POSTLINE_GREYLIST_EXEMPT_NETWORKS);
  return s;
}
