import type { Queryable } from "@postline/db";
import { AlreadyExists, DomainNotFound, NotFound } from "./errors.ts";
import { normalizeAddress, normalizeDomain, parseAddress } from "./names.ts";

/** One source → destination pair; a source with several destinations has several rows. */
export interface Alias {
  id: number;
  /** Domain of the source, which is always a local domain. */
  domain: string;
  source: string;
  /** A local or remote address. */
  destination: string;
  createdAt: Date;
}

interface AliasRow {
  id: number;
  domain: string;
  source: string;
  destination: string;
  created_at: Date;
}

const SELECT = "SELECT s.id, d.name AS domain, s.source, s.destination, s.created_at FROM aliases s JOIN domains d ON d.id = s.domain_id";

function toAlias(r: AliasRow): Alias {
  return { id: r.id, domain: r.domain, source: r.source, destination: r.destination, createdAt: r.created_at };
}

export async function addAlias(db: Queryable, source: string, destination: string): Promise<Alias> {
  const src = parseAddress(source);
  const dest = normalizeAddress(destination);
  const d = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [src.domain]);
  if (!d.rows[0]) throw new DomainNotFound(src.domain);
  const r = await db.query<{ id: number }>(
    "INSERT INTO aliases (domain_id, source, destination) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id",
    [d.rows[0].id, src.address, dest],
  );
  if (!r.rows[0]) throw new AlreadyExists(`alias ${src.address} → ${dest} already exists`);
  const row = await db.query<AliasRow>(`${SELECT} WHERE s.id = $1`, [r.rows[0].id]);
  return toAlias(row.rows[0]!);
}

export interface AliasFilter {
  /** Only aliases whose source is in this domain (DomainNotFound when it is not ours). */
  domain?: string;
  source?: string;
}

/** Aliases ordered by source, then destination. */
export async function listAliases(db: Queryable, filter: AliasFilter = {}): Promise<Alias[]> {
  let domainId: number | null = null;
  if (filter.domain !== undefined) {
    const name = normalizeDomain(filter.domain);
    const d = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name]);
    if (!d.rows[0]) throw new DomainNotFound(name);
    domainId = d.rows[0].id;
  }
  const source = filter.source !== undefined ? normalizeAddress(filter.source) : null;
  const r = await db.query<AliasRow>(
    `${SELECT} WHERE ($1::bigint IS NULL OR s.domain_id = $1) AND ($2::text IS NULL OR s.source = $2) ORDER BY s.source, s.destination`,
    [domainId, source],
  );
  return r.rows.map(toAlias);
}

export async function removeAlias(db: Queryable, source: string, destination: string): Promise<void> {
  const src = normalizeAddress(source);
  const dest = normalizeAddress(destination);
  const r = await db.query("DELETE FROM aliases WHERE source = $1 AND destination = $2", [src, dest]);
  if (r.rowCount === 0) throw new NotFound(`alias ${src} → ${dest} does not exist`);
}
