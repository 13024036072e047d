import { field, parseConfig, z, type Env } from "@postline/config";

export const authSchema = z.object({
  /** Failures for one login name within the window that lock it out. */
  POSTLINE_AUTH_MAX_FAILURES_PER_ACCOUNT: field.positiveInt(5),
  /** Failures from one client address (IPv4, or IPv6 /64) within the window that lock it out. */
  POSTLINE_AUTH_MAX_FAILURES_PER_IP: field.positiveInt(20),
  /** The window failures are counted in. */
  POSTLINE_AUTH_FAILURE_WINDOW_MS: field.positiveInt(15 * 60_000),
  /** The first lockout's length; each further lockout in a row doubles it, up to 64 times this. */
  POSTLINE_AUTH_LOCKOUT_MS: field.positiveInt(60_000),
});

export interface AuthSettings {
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowMs: number;
  lockoutMs: number;
}

export function authSettings(env: Env): AuthSettings {
  const c = parseConfig(authSchema, env);
  return {
    maxFailuresPerAccount: c.POSTLINE_AUTH_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerIp: c.POSTLINE_AUTH_MAX_FAILURES_PER_IP,
    windowMs: c.POSTLINE_AUTH_FAILURE_WINDOW_MS,
    lockoutMs: c.POSTLINE_AUTH_LOCKOUT_MS,
  };
}
