import { hostname } from "node:os";
import { field, z } from "@postline/config";
import { parseDuration } from "./durations.ts";

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parseDuration(text);
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });

const schedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        const delays = text.split(",").map((s) => parseDuration(s));
        if (delays.length === 0 || delays.some((d) => d <= 0)) throw new Error("every delay must be positive");
        return delays;
      } catch (err) {
        ctx.addIssue({ code: "custom", message: (err as Error).message });
        return z.NEVER;
      }
    });

/** Settings of the remote part of delivery (SMTP to other domains' MX hosts). */
export const remoteSchema = z.object({
  /** EHLO name, Reporting-MTA of DSNs, and the domain of their MAILER-DAEMON sender. */
  POSTLINE_HOSTNAME: z.string().min(1).default(hostname()),
  /** DNS servers for MX/A/AAAA lookups ("127.0.0.1:5353,[::1]:53"); empty: the system's. */
  POSTLINE_DNS_SERVERS: field.list().default([]),
  /** The port of every MX host (25; tests point it elsewhere). */
  POSTLINE_DELIVERY_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
  /** Delays between attempts after a temporary failure; the last one repeats. */
  POSTLINE_DELIVERY_RETRY_SCHEDULE: schedule("1m,5m,30m,2h,6h"),
  /** How long after acceptance a recipient that still fails temporarily is bounced. */
  POSTLINE_DELIVERY_MAX_LIFETIME: duration("5d"),
  /** A "delayed" DSN goes to the sender once a recipient has waited this long; 0 turns it off. */
  POSTLINE_DELIVERY_DELAY_WARNING: duration("4h"),
  /** SMTP sessions to one destination domain at once, per process. */
  POSTLINE_DELIVERY_DESTINATION_CONCURRENCY: z.coerce.number().int().positive().default(20),
  /** SMTP sessions at once, per process. */
  POSTLINE_DELIVERY_OUTBOUND_CONCURRENCY: z.coerce.number().int().positive().default(100),
  /** How long a process owns the recipients it took without renewing; then another takes them over. */
  POSTLINE_DELIVERY_LEASE_SECONDS: z.coerce.number().int().min(2).default(60),
  /** How often each process looks for recipients nobody is working on (a dead owner's, a lost retry record). */
  POSTLINE_DELIVERY_SWEEP_SECONDS: z.coerce.number().positive().default(15),
  POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
  /** Inactivity on an SMTP connection before the attempt fails (RFC 5321 §4.5.3.2 suggests minutes). */
  POSTLINE_DELIVERY_SMTP_TIMEOUT_SECONDS: z.coerce.number().positive().default(300),
  /** An idle connection kept for the next message to the same host closes after this. */
  POSTLINE_DELIVERY_CONNECTION_IDLE_SECONDS: z.coerce.number().min(0).default(5),
  POSTLINE_DELIVERY_MESSAGES_PER_CONNECTION: z.coerce.number().int().positive().default(100),
});

export type RemoteSettings = z.infer<typeof remoteSchema>;
