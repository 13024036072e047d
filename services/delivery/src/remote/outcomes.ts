import type { RecipientOutcome } from "./transport/index.ts";

type Notify = "NEVER" | "SUCCESS" | "FAILURE" | "DELAY";

/** RFC 3461 NOTIFY of one recipient: absent means failures (and, here, delays) are reported. */
export function wantsNotice(notify: Notify[] | undefined, kind: "SUCCESS" | "FAILURE" | "DELAY"): boolean {
  if (!notify || notify.length === 0) return kind !== "SUCCESS";
  if (notify.includes("NEVER")) return false;
  return notify.includes(kind);
}

/** The recipient's DSN parameters from the envelope (RCPT TO spelling may differ in case). */
export function rcptParams<T>(params: Record<string, T>, recipient: string): T | undefined {
  if (recipient in params) return params[recipient];
  const lower = recipient.toLowerCase();
  for (const [k, v] of Object.entries(params)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The delay before the attempt after `attempts` attempts (the schedule's last entry repeats). */
export function retryDelay(schedule: number[], attempts: number): number {
  return schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1]!;
}

/** "4.4.1" or "5.1.1" from an outcome; delivered is 2.0.0. */
export function statusOf(outcome: RecipientOutcome): string {
  return outcome.kind === "delivered" ? "2.0.0" : outcome.status;
}

/** The remote reply as a DSN Diagnostic-Code (`smtp; 550 5.1.1 …`), when the failure came from a server. */
export function diagnosticCode(error: string): string | undefined {
  return /^[245]\d\d[ -]/.test(error) ? `smtp; ${error}` : undefined;
}

/** "mx1.example.org [192.0.2.1]" → "mx1.example.org". */
export function hostName(host: string | undefined): string | undefined {
  return host?.replace(/\s*\[[^\]]*\]\s*$/, "") || undefined;
}
