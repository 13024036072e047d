import { Counter, type Registry } from "prom-client";
import type { Env } from "@postline/config";
import type { Db } from "@postline/db";
import { checkPasswordHash, hashPassword, normalizeAddress } from "@postline/directory";
import type { Logger } from "@postline/telemetry";
import { authSettings } from "./settings.ts";
import { LoginThrottle, clientKey } from "./throttle.ts";

export { decodeSaslPlain } from "./sasl.ts";
export { authSchema, authSettings, type AuthSettings } from "./settings.ts";
export { LoginThrottle, clientKey } from "./throttle.ts";

export type Protocol = "imap" | "pop3" | "submission";

export type LoginResult =
  | { ok: true; account: { id: number; address: string } }
  | { ok: false; reason: "invalid" | "throttled" | "disabled"; retryAfterMs?: number };

/**
 * Password logins for IMAP, POP3 and SMTP submission.
 *
 * Login names are account addresses only (normalised: case-insensitive, IDN domains as stored);
 * an alias is a delivery address and does not log in, so an alias pointing at several accounts
 * cannot make a login ambiguous.
 *
 * Outcomes: "invalid" for a wrong password or an unknown name (indistinguishable, also by time:
 * unknown names are verified against a dummy hash); "disabled" only when the password is right,
 * so a guesser does not learn that either; "throttled" before any password check when the name
 * or the client address is locked out (see ./throttle.ts).
 */
export interface Authenticator {
  login(user: string, password: string, clientIp: string, protocol: Protocol): Promise<LoginResult>;
}

const DUMMY_PASSWORD = "postline-timing-equaliser";
const MAX_NAME_LENGTH = 320;

export function createAuthenticator(deps: { db: Db; logger: Logger; registry: Registry; env: Env }): Authenticator {
  const settings = authSettings(deps.env);
  const throttle = new LoginThrottle(deps.db, settings);
  const total = authCounter(deps.registry);
  // Made once, ahead of the first unknown name: verifying against it costs what a real check costs.
  const dummyHash = hashPassword(DUMMY_PASSWORD);
  dummyHash.catch(() => undefined);
  const logger = deps.logger.child({ component: "auth" });

  return {
    async login(user, password, clientIp, protocol) {
      const name = loginKey(user);
      const ip = clientKey(clientIp);
      const result = await attempt(name, password, ip);
      total.inc({ protocol, result: result.ok ? "success" : result.reason });
      if (!result.ok) {
        logger.info({ protocol, ip: clientIp, user: name, reason: result.reason, retryAfterMs: result.retryAfterMs }, "login failed");
      }
      return result;
    },
  };

  async function attempt(name: string, password: string, ip: string): Promise<LoginResult> {
    const retryAfterMs = await throttle.lockedFor(name, ip);
    if (retryAfterMs > 0) return { ok: false, reason: "throttled", retryAfterMs };

    const r = await deps.db.query<{ id: number; address: string; password_hash: string; disabled: boolean }>(
      "SELECT id, address, password_hash, disabled FROM accounts WHERE address = $1",
      [name],
    );
    const row = r.rows[0];
    const ok = row ? await checkPasswordHash(row.password_hash, password) : await checkPasswordHash(await dummyHash, password).then(() => false);
    if (!row || !ok) {
      await throttle.recordFailure(name, ip);
      return { ok: false, reason: "invalid" };
    }
    if (row.disabled) return { ok: false, reason: "disabled" };
    await throttle.reset("account", name);
    return { ok: true, account: { id: Number(row.id), address: row.address } };
  }
}

/** The name a login is looked up and throttled under: the normalised address, or the raw name (bounded) when it is not one. */
function loginKey(user: string): string {
  try {
    return normalizeAddress(user.trim());
  } catch {
    return user.trim().toLowerCase().slice(0, MAX_NAME_LENGTH);
  }
}

function authCounter(registry: Registry): Counter<"protocol" | "result"> {
  const name = "postline_imap_pop3_auth_total";
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<"protocol" | "result">;
  return new Counter({
    name,
    help: "Password logins by protocol and result (success, invalid, throttled, disabled)",
    labelNames: ["protocol", "result"],
    registers: [registry],
  });
}
