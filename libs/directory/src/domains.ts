import type { Db, Queryable } from "@postline/db";
import { AlreadyExists, DomainNotEmpty, DomainNotFound } from "./errors.ts";
import { normalizeAddress, normalizeDomain } from "./names.ts";
import { releaseMessageBlobs } from "./blob-refs.ts";

export interface Domain {
  id: number;
  /** Lower-case A-label form. */
  name: string;
  /** Address that receives mail for unknown local parts, or null. */
  catchAll: string | null;
  createdAt: Date;
}

interface DomainRow {
  id: number;
  name: string;
  catch_all: string | null;
  created_at: Date;
}

const COLUMNS = "id, name, catch_all, created_at";

function toDomain(r: DomainRow): Domain {
  return { id: r.id, name: r.name, catchAll: r.catch_all, createdAt: r.created_at };
}

export async function addDomain(db: Queryable, name: string, options: { catchAll?: string | null } = {}): Promise<Domain> {
  const domain = normalizeDomain(name);
  const catchAll = options.catchAll ? normalizeAddress(options.catchAll) : null;
  const r = await db.query<DomainRow>(
    `INSERT INTO domains (name, catch_all) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
    [domain, catchAll],
  );
  if (!r.rows[0]) throw new AlreadyExists(`domain ${domain} already exists`);
  return toDomain(r.rows[0]);
}

/** The domain, or null when it is not a local domain. `name` may be a U-label. */
export async function findDomain(db: Queryable, name: string): Promise<Domain | null> {
  const r = await db.query<DomainRow>(`SELECT ${COLUMNS} FROM domains WHERE name = $1`, [normalizeDomain(name)]);
  return r.rows[0] ? toDomain(r.rows[0]) : null;
}

export async function getDomain(db: Queryable, name: string): Promise<Domain> {
  const domain = await findDomain(db, name);
  if (!domain) throw new DomainNotFound(normalizeDomain(name));
  return domain;
}

export async function listDomains(db: Queryable): Promise<Domain[]> {
  const r = await db.query<DomainRow>(`SELECT ${COLUMNS} FROM domains ORDER BY name`);
  return r.rows.map(toDomain);
}

/** Sets (or with null clears) the catch-all address of a domain. */
export async function setCatchAll(db: Queryable, name: string, address: string | null): Promise<Domain> {
  const domain = normalizeDomain(name);
  const catchAll = address ? normalizeAddress(address) : null;
  const r = await db.query<DomainRow>(`UPDATE domains SET catch_all = $2 WHERE name = $1 RETURNING ${COLUMNS}`, [domain, catchAll]);
  if (!r.rows[0]) throw new DomainNotFound(domain);
  return toDomain(r.rows[0]);
}

/**
 * Removes a domain. One that still has accounts or aliases is refused unless `force`, which
 * deletes them too (with their mailboxes and messages, releasing the messages' blobs).
 */
export async function removeDomain(db: Db, name: string, options: { force?: boolean } = {}): Promise<void> {
  const domain = normalizeDomain(name);
  await db.transaction(async (tx) => {
    const r = await tx.query<{ id: number; accounts: number; aliases: number }>(
      `SELECT d.id,
              (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id)::int AS accounts,
              (SELECT count(*) FROM aliases s WHERE s.domain_id = d.id)::int AS aliases
         FROM domains d WHERE d.name = $1 FOR UPDATE`,
      [domain],
    );
    const row = r.rows[0];
    if (!row) throw new DomainNotFound(domain);
    if ((row.accounts > 0 || row.aliases > 0) && !options.force) throw new DomainNotEmpty(domain, row.accounts, row.aliases);
    await releaseMessageBlobs(tx, "a.domain_id = $1", [row.id]);
    await tx.query("DELETE FROM domains WHERE id = $1", [row.id]);
  });
}
