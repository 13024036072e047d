import { isIPv6 } from "node:net";
import type { Db } from "@postline/db";
import { clientNetwork, plainAddress } from "@postline/ip";
import type { AuthSettings } from "./settings.ts";

/**
 * Failed-login throttling, kept in PostgreSQL (table login_failures, migration 0004).
 *
 * Why the database and not process memory (Dovecot's auth penalty is per process): every imap-pop3
 * pod serves any user, and a load balancer spreads one client's connections over all of them. A
 * counter in memory would give a guesser N pods × the allowance and forget everything on a
 * restart; the shared row does neither. The cost is one indexed read per login and one small
 * transaction per failure, which is nothing next to the argon2id verification each login pays.
 * Standalone mode keeps the same table in PGlite.
 *
 * Rules: each scope (the login name, and the client address) counts failures in a window that
 * starts at its first failure. Reaching the scope's maximum locks the key out for `lockoutMs`,
 * doubled for each lockout in a row (at most 64×); the lockout streak is forgiven once the last
 * lockout ended more than 64 × lockoutMs ago. While locked, attempts are refused before the
 * password is looked at, and are not counted. A successful login clears the account's row (not
 * the address's: one valid account must not let a client keep guessing others).
 */
export type Scope = "account" | "ip";

const MAX_BACKOFF_DOUBLINGS = 6; // 2^6 = 64

export class LoginThrottle {
  constructor(
    private readonly db: Db,
    private readonly settings: AuthSettings,
  ) {}

  /** Milliseconds until the later of the two lockouts ends, or 0 when neither key is locked. */
  async lockedFor(accountKey: string, ipKey: string): Promise<number> {
    const r = await this.db.query<{ retry_ms: number | null }>(
      `SELECT max(ceil(extract(epoch FROM locked_until - now()) * 1000))::float8 AS retry_ms
         FROM login_failures
        WHERE ((scope = 'account' AND key = $1) OR (scope = 'ip' AND key = $2)) AND locked_until > now()`,
      [accountKey, ipKey],
    );
    return Math.max(0, Number(r.rows[0]?.retry_ms ?? 0));
  }

  /** Counts one failure against both keys. */
  async recordFailure(accountKey: string, ipKey: string): Promise<void> {
    await this.count("account", accountKey, this.settings.maxFailuresPerAccount);
    await this.count("ip", ipKey, this.settings.maxFailuresPerIp);
    // Housekeeping, now and then: rows with nothing left to remember.
    if (Math.random() < 0.01) {
      await this.db.query(
        `DELETE FROM login_failures
          WHERE updated_at < now() - $1::float8 * interval '1 millisecond'
            AND (locked_until IS NULL OR locked_until < now() - $1::float8 * interval '1 millisecond')`,
        [Math.max(this.settings.windowMs, this.settings.lockoutMs * 2 ** MAX_BACKOFF_DOUBLINGS)],
      );
    }
  }

  async reset(scope: Scope, key: string): Promise<void> {
    await this.db.query("DELETE FROM login_failures WHERE scope = $1 AND key = $2", [scope, key]);
  }

  private async count(scope: Scope, key: string, max: number): Promise<void> {
    const { windowMs, lockoutMs } = this.settings;
    const forgiveMs = lockoutMs * 2 ** MAX_BACKOFF_DOUBLINGS;
    await this.db.transaction(async (tx) => {
      await tx.query("INSERT INTO login_failures (scope, key) VALUES ($1, $2) ON CONFLICT DO NOTHING", [scope, key]);
      const r = await tx.query<{ failures: number; lockouts: number; window_ms: number; locked_ms: number | null; now_ms: number }>(
        `SELECT failures, lockouts,
                extract(epoch FROM window_started_at)::float8 * 1000 AS window_ms,
                extract(epoch FROM locked_until)::float8 * 1000 AS locked_ms,
                extract(epoch FROM now())::float8 * 1000 AS now_ms
           FROM login_failures WHERE scope = $1 AND key = $2 FOR UPDATE`,
        [scope, key],
      );
      const row = r.rows[0]!;
      const now = Number(row.now_ms);
      const windowExpired = Number(row.window_ms) <= now - windowMs;
      const forgiven = row.locked_ms === null || Number(row.locked_ms) <= now - forgiveMs;
      const lockouts = forgiven ? 0 : row.lockouts;
      const failures = (windowExpired ? 0 : row.failures) + 1;
      if (failures >= max) {
        const lockMs = lockoutMs * 2 ** Math.min(lockouts, MAX_BACKOFF_DOUBLINGS);
        await tx.query(
          `UPDATE login_failures SET failures = 0, window_started_at = now(), lockouts = $3,
                  locked_until = now() + $4::float8 * interval '1 millisecond', updated_at = now()
            WHERE scope = $1 AND key = $2`,
          [scope, key, lockouts + 1, lockMs],
        );
      } else {
        await tx.query(
          `UPDATE login_failures SET failures = $3, lockouts = $4, updated_at = now(),
                  window_started_at = CASE WHEN $5::boolean THEN now() ELSE window_started_at END
            WHERE scope = $1 AND key = $2`,
          [scope, key, failures, lockouts, windowExpired],
        );
      }
    });
  }
}

/**
 * The throttling key of a client address: IPv4 as it is (also when IPv4-mapped), IPv6 by its /64,
 * the smallest block one subscriber usually gets, so hopping addresses within it does not help.
 */
export function clientKey(ip: string): string {
  const address = plainAddress(ip);
  return isIPv6(address) ? (clientNetwork(address) ?? address) : address;
}
