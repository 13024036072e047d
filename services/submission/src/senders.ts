import type { Queryable } from "@postline/db";
import { normalizeAddress } from "@postline/directory";

export interface AuthUser {
  id: number;
  address: string;
}

/**
 * Whether `address` may appear as the sender of `user`'s mail: the account's own address, or an
 * alias (libs/directory) whose destination is the account. Comparison is on normalised addresses
 * (case-insensitive, IDN domains as stored); something that is not an address is not owned.
 */
export async function ownsAddress(db: Queryable, user: AuthUser, address: string): Promise<boolean> {
  let normalized: string;
  try {
    normalized = normalizeAddress(address);
  } catch {
    return false;
  }
  if (normalized === user.address) return true;
  const r = await db.query("SELECT 1 FROM aliases WHERE source = $1 AND destination = $2 LIMIT 1", [normalized, user.address]);
  return r.rows.length > 0;
}
