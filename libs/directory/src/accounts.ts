import type { Db, Queryable } from "@postline/db";
import { AlreadyExists, DomainNotFound, InvalidInput, NotFound } from "./errors.ts";
import { normalizeAddress, normalizeDomain, parseAddress } from "./names.ts";
import { burnVerification, checkPasswordHash, hashPassword } from "./passwords.ts";
import { createDefaultMailboxes } from "./mailboxes.ts";
import { releaseMessageBlobs } from "./blob-refs.ts";

/** An account as the rest of the platform sees it; the password hash never leaves this module. */
export interface Account {
  id: number;
  address: string;
  localPart: string;
  domain: string;
  /** null: unlimited. */
  quotaBytes: number | null;
  usedBytes: number;
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

interface AccountRow {
  id: number;
  address: string;
  local_part: string;
  domain: string;
  quota_bytes: number | null;
  used_bytes: number;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const SELECT = `SELECT a.id, a.address, a.local_part, d.name AS domain, a.quota_bytes, a.used_bytes, a.disabled, a.created_at, a.updated_at
                  FROM accounts a JOIN domains d ON d.id = a.domain_id`;

function toAccount(r: AccountRow): Account {
  return {
    id: r.id,
    address: r.address,
    localPart: r.local_part,
    domain: r.domain,
    quotaBytes: r.quota_bytes,
    usedBytes: r.used_bytes,
    disabled: r.disabled,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function validateQuota(quotaBytes: number | null | undefined): void {
  if (quotaBytes === null || quotaBytes === undefined) return;
  if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) throw new InvalidInput("quota must be a whole number of bytes, 0 or more (or null for unlimited)");
}

export interface NewAccount {
  address: string;
  password: string;
  /** Omitted or null: unlimited. */
  quotaBytes?: number | null;
}

/** Creates the account and its default mailboxes in one transaction. */
export async function createAccount(db: Db, input: NewAccount): Promise<Account> {
  const { localPart, domain, address } = parseAddress(input.address);
  validateQuota(input.quotaBytes);
  const passwordHash = await hashPassword(input.password);
  const id = await db.transaction(async (tx) => {
    const d = await tx.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [domain]);
    if (!d.rows[0]) throw new DomainNotFound(domain);
    const r = await tx.query<{ id: number }>(
      `INSERT INTO accounts (domain_id, local_part, address, password_hash, quota_bytes)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id`,
      [d.rows[0].id, localPart, address, passwordHash, input.quotaBytes ?? null],
    );
    if (!r.rows[0]) throw new AlreadyExists(`account ${address} already exists`);
    await createDefaultMailboxes(tx, r.rows[0].id);
    return r.rows[0].id;
  });
  const r = await db.query<AccountRow>(`${SELECT} WHERE a.id = $1`, [id]);
  return toAccount(r.rows[0]!);
}

export async function findAccount(db: Queryable, address: string): Promise<Account | null> {
  const r = await db.query<AccountRow>(`${SELECT} WHERE a.address = $1`, [normalizeAddress(address)]);
  return r.rows[0] ? toAccount(r.rows[0]) : null;
}

export async function getAccount(db: Queryable, address: string): Promise<Account> {
  const account = await findAccount(db, address);
  if (!account) throw new NotFound(`account ${normalizeAddress(address)} does not exist`);
  return account;
}

export interface ListOptions {
  /** Only this domain's accounts (DomainNotFound when it is not ours). */
  domain?: string;
  /** Keyset pagination: addresses sorting after this one. */
  after?: string;
  limit?: number;
}

/** Accounts in address order. */
export async function listAccounts(db: Queryable, options: ListOptions = {}): Promise<Account[]> {
  let domainId: number | null = null;
  if (options.domain !== undefined) {
    const name = normalizeDomain(options.domain);
    const d = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name]);
    if (!d.rows[0]) throw new DomainNotFound(name);
    domainId = d.rows[0].id;
  }
  const r = await db.query<AccountRow>(
    `${SELECT} WHERE ($1::bigint IS NULL OR a.domain_id = $1) AND ($2::text IS NULL OR a.address > $2)
      ORDER BY a.address LIMIT $3`,
    [domainId, options.after?.toLowerCase() ?? null, options.limit ?? null],
  );
  return r.rows.map(toAccount);
}

export interface AccountChanges {
  password?: string;
  /** null: unlimited. */
  quotaBytes?: number | null;
  disabled?: boolean;
}

/** Applies the given changes in one statement; fields left undefined keep their value. */
export async function updateAccount(db: Queryable, address: string, changes: AccountChanges): Promise<Account> {
  const normalized = normalizeAddress(address);
  validateQuota(changes.quotaBytes);
  const passwordHash = changes.password !== undefined ? await hashPassword(changes.password) : null;
  const r = await db.query<{ id: number }>(
    `UPDATE accounts SET
        password_hash = COALESCE($2, password_hash),
        quota_bytes = CASE WHEN $3::boolean THEN $4::bigint ELSE quota_bytes END,
        disabled = COALESCE($5, disabled),
        updated_at = now()
      WHERE address = $1 RETURNING id`,
    [normalized, passwordHash, changes.quotaBytes !== undefined, changes.quotaBytes ?? null, changes.disabled ?? null],
  );
  if (!r.rows[0]) throw new NotFound(`account ${normalized} does not exist`);
  return getAccount(db, normalized);
}

export async function setPassword(db: Queryable, address: string, password: string): Promise<Account> {
  return updateAccount(db, address, { password });
}

export async function setQuota(db: Queryable, address: string, quotaBytes: number | null): Promise<Account> {
  return updateAccount(db, address, { quotaBytes });
}

export async function setDisabled(db: Queryable, address: string, disabled: boolean): Promise<Account> {
  return updateAccount(db, address, { disabled });
}

/** Deletes the account with its mailboxes and messages, releasing the messages' blobs. */
export async function deleteAccount(db: Db, address: string): Promise<void> {
  const normalized = normalizeAddress(address);
  await db.transaction(async (tx) => {
    const r = await tx.query<{ id: number }>("SELECT id FROM accounts WHERE address = $1 FOR UPDATE", [normalized]);
    if (!r.rows[0]) throw new NotFound(`account ${normalized} does not exist`);
    await releaseMessageBlobs(tx, "a.id = $1", [r.rows[0].id]);
    await tx.query("DELETE FROM accounts WHERE id = $1", [r.rows[0].id]);
  });
}

/**
 * The account when `password` is right and the account is enabled, otherwise null. Unknown
 * addresses cost as much time as wrong passwords, so timing does not reveal which addresses exist.
 */
export async function verifyPassword(db: Queryable, address: string, password: string): Promise<Account | null> {
  let normalized: string;
  try {
    normalized = normalizeAddress(address);
  } catch {
    await burnVerification(password);
    return null;
  }
  const r = await db.query<AccountRow & { password_hash: string }>(`${SELECT.replace("SELECT ", "SELECT a.password_hash, ")} WHERE a.address = $1`, [normalized]);
  const row = r.rows[0];
  if (!row) {
    await burnVerification(password);
    return null;
  }
  const ok = await checkPasswordHash(row.password_hash, password);
  return ok && !row.disabled ? toAccount(row) : null;
}
