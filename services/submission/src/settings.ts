import { hostname } from "node:os";
import { field, parseConfig, z, type Env, type PlatformConfig } from "@postline/config";
import { checkTlsFileSettings, listenerPort } from "@postline/tls";

const MiB = 1024 * 1024;

const ms = (fallback: number) =>
  z.coerce.number({ message: "must be a number of milliseconds" }).int("must be a whole number").min(0, "must be 0 or more").default(fallback);

const optionalPort = () => z.coerce.number({ message: "must be a port number" }).int("must be a whole number").min(0).max(65535, "must be at most 65535").optional();

/** The submission service's own settings (environment variables), read when the service starts. */
export const submissionSchema = z.object({
  /** Where both listeners bind. */
  POSTLINE_SUBMISSION_HOST: z.string().default("0.0.0.0"),
  /** Submission with STARTTLS (RFC 6409). Default 587 (1587 in standalone mode when not root); 0 picks a free port. */
  POSTLINE_SUBMISSION_PORT: optionalPort(),
  /** Submission over implicit TLS (RFC 8314). Default 465 (1465). */
  POSTLINE_SUBMISSIONS_PORT: optionalPort(),
  /** This host's name: greeting, EHLO reply, Message-ID domain, generated certificate subject. */
  POSTLINE_HOSTNAME: z.string().min(1).default(hostname()),
  /** Largest message accepted (advertised in SIZE). */
  POSTLINE_SUBMISSION_MAX_SIZE: field.positiveInt(50 * MiB),
  /** Recipients of one message; more get `452 4.5.3`. */
  POSTLINE_SUBMISSION_MAX_RECIPIENTS: field.positiveInt(100),
  /** Messages one account may submit in any 60 minutes (counted in PostgreSQL, shared by all pods); more get `451 4.7.1`. */
  POSTLINE_SUBMISSION_MAX_PER_HOUR: field.positiveInt(500),
  /** Sessions open at once in total. */
  POSTLINE_SUBMISSION_MAX_CONNECTIONS: field.positiveInt(1000),
  POSTLINE_SUBMISSION_MAX_LINE_LENGTH: field.positiveInt(2048),
  POSTLINE_SUBMISSION_IDLE_TIMEOUT_MS: ms(300_000).refine((v) => v > 0, "must be positive"),
  /** On stop: how long sessions in flight may take to finish before they get 421. */
  POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS: ms(20_000),
  POSTLINE_TLS_CERT: z.string().optional(),
  POSTLINE_TLS_KEY: z.string().optional(),
  POSTLINE_TLS_RELOAD_INTERVAL_MS: ms(10_000).refine((v) => v > 0, "must be positive"),
});

export type SubmissionSettingsRaw = z.infer<typeof submissionSchema>;

export interface SubmissionSettings extends Omit<SubmissionSettingsRaw, "POSTLINE_SUBMISSION_PORT" | "POSTLINE_SUBMISSIONS_PORT"> {
  POSTLINE_SUBMISSION_PORT: number;
  POSTLINE_SUBMISSIONS_PORT: number;
}

/**
 * Reads the settings. Ports below 1024 need root: in standalone mode a normal user gets 1587 and
 * 1465 unless the port is set explicitly (like the MX's 2525 and IMAP's 1143).
 */
export function parseSubmissionSettings(env: Env, config?: Pick<PlatformConfig, "POSTLINE_MODE">): SubmissionSettings {
  const s = parseConfig(submissionSchema, env);
  checkTlsFileSettings(s);
  const port = (value: number | undefined, standard: number) => listenerPort(value, standard, config);
  return {
    ...s,
    POSTLINE_SUBMISSION_PORT: port(s.POSTLINE_SUBMISSION_PORT, 587),
    POSTLINE_SUBMISSIONS_PORT: port(s.POSTLINE_SUBMISSIONS_PORT, 465),
  };
}
