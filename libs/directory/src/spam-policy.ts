import { isIP } from "node:net";
import type { Queryable } from "@postline/db";
import { networkAddress } from "@postline/ip";
import { AlreadyExists, DomainNotFound, InvalidInput, NotFound } from "./errors.ts";
import { normalizeAddress, normalizeDomain, parseAddress } from "./names.ts";

// The spam filter's per-account and per-domain data that operators manage: allow and block lists,
// and the per-message verdict record (written by the spam filter, read here). Answers are plain
// JSON (dates as ISO strings): the admin API returns them as they are, and so does the CLI.

export type SpamListKind = "allow" | "block";
/** address: user@example.com; domain: example.com or *.example.com; ip: an address or a CIDR network. */
export type SpamListType = "address" | "domain" | "ip";

export interface SpamListEntry {
  id: number;
  /** The account whose own list this is (null for a domain's list). */
  account: string | null;
  /** The local domain whose list this is, for every account of the domain (null for an account's list). */
  domain: string | null;
  kind: SpamListKind;
  type: SpamListType;
  value: string;
  comment: string | null;
  createdAt: string;
}

/** Exactly one of them for adding; at most one for listing (none: every entry). */
export interface SpamListScope {
  account?: string;
  domain?: string;
}

export interface NewSpamListEntry extends SpamListScope {
  kind: SpamListKind;
  value: string;
  comment?: string | null;
}

/** The shortest CIDR prefix accepted: a typo must not allow or block a large part of the Internet. */
export const MIN_PREFIX = { 4: 8, 6: 16 } as const;
const MAX_COMMENT = 500;

/**
 * Normalises a list value and tells its type: `user@example.com` (an address), `example.com` (that
 * domain only), `*.example.com` (the domain and all its subdomains; `*@example.com` is read as
 * `example.com`), `192.0.2.7`, `192.0.2.0/24`, `2001:db8::/48`. A CIDR with host bits set is
 * reduced to its network. Throws InvalidInput.
 */
export function parseSpamListValue(input: string): { type: SpamListType; value: string; network: string | null } {
  const raw = input.trim();
  if (!raw) throw new InvalidInput("the value is empty (expected an address, a domain, or an IP address/CIDR)");
  const ip = parseNetwork(raw);
  if (ip) return { type: "ip", ...ip };
  if (raw.startsWith("*@")) return { type: "domain", value: normalizeDomain(raw.slice(2)), network: null };
  if (raw.includes("@")) return { type: "address", value: parseAddress(raw).address, network: null };
  if (raw.startsWith("*.")) return { type: "domain", value: `*.${normalizeDomain(raw.slice(2))}`, network: null };
  if (raw.includes("*")) throw new InvalidInput(`"${input}": a wildcard is only allowed as a leading "*." of a domain`);
  if (raw.includes("/") || /^[\d.]+$/.test(raw) || raw.includes(":")) throw new InvalidInput(`"${input}" is not a valid IP address or CIDR network`);
  return { type: "domain", value: normalizeDomain(raw), network: null };
}

function parseNetwork(raw: string): { value: string; network: string } | null {
  const slash = raw.indexOf("/");
  const addressPart = slash < 0 ? raw : raw.slice(0, slash);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addressPart);
  const address = mapped ? mapped[1]! : addressPart;
  const version = isIP(address);
  if (version === 0) return null;
  const bits = version === 4 ? 32 : 128;
  let prefix = bits;
  if (slash >= 0) {
    const text = raw.slice(slash + 1);
    if (!/^\d{1,3}$/.test(text)) throw new InvalidInput(`"${raw}" has an invalid prefix length`);
    prefix = Number(text) - (mapped ? 96 : 0);
    if (prefix > bits || prefix < 0) throw new InvalidInput(`"${raw}" has a prefix length beyond ${bits}`);
  }
  const min = MIN_PREFIX[version as 4 | 6];
  if (prefix < min) throw new InvalidInput(`"${raw}" is too broad: the prefix must be /${min} or longer for IPv${version}`);
  const network = networkAddress(address, prefix);
  return { value: prefix === bits ? network : `${network}/${prefix}`, network: `${network}/${prefix}` };
}


interface EntryRow {
  id: number;
  account: string | null;
  domain: string | null;
  kind: SpamListKind;
  type: SpamListType;
  value: string;
  comment: string | null;
  created_at: Date;
}

const SELECT = `SELECT e.id, a.address AS account, d.name AS domain, e.kind, e.type, e.value, e.comment, e.created_at
  FROM spam_list_entries e LEFT JOIN accounts a ON a.id = e.account_id LEFT JOIN domains d ON d.id = e.domain_id`;

function toEntry(r: EntryRow): SpamListEntry {
  return { id: r.id, account: r.account, domain: r.domain, kind: r.kind, type: r.type, value: r.value, comment: r.comment, createdAt: r.created_at.toISOString() };
}

async function scopeIds(db: Queryable, scope: SpamListScope): Promise<{ accountId: number | null; domainId: number | null }> {
  if (scope.account !== undefined && scope.domain !== undefined) throw new InvalidInput("give either an account or a domain, not both");
  if (scope.account !== undefined) {
    const address = normalizeAddress(scope.account);
    const r = await db.query<{ id: number }>("SELECT id FROM accounts WHERE address = $1", [address]);
    if (!r.rows[0]) throw new NotFound(`account ${address} does not exist`);
    return { accountId: r.rows[0].id, domainId: null };
  }
  if (scope.domain !== undefined) {
    const name = normalizeDomain(scope.domain);
    const r = await db.query<{ id: number }>("SELECT id FROM domains WHERE name = $1", [name]);
    if (!r.rows[0]) throw new DomainNotFound(name);
    return { accountId: null, domainId: r.rows[0].id };
  }
  return { accountId: null, domainId: null };
}

/** Adds an allow or block entry to an account's or a local domain's list. */
export async function addSpamListEntry(db: Queryable, input: NewSpamListEntry): Promise<SpamListEntry> {
  if (input.account === undefined && input.domain === undefined) throw new InvalidInput("give the account or the domain whose list this is");
  if (input.kind !== "allow" && input.kind !== "block") throw new InvalidInput(`kind must be "allow" or "block"`);
  const comment = input.comment?.trim() || null;
  if (comment && comment.length > MAX_COMMENT) throw new InvalidInput(`the comment is longer than ${MAX_COMMENT} characters`);
  const parsed = parseSpamListValue(input.value);
  const { accountId, domainId } = await scopeIds(db, input);
  const r = await db.query<{ id: number }>(
    `INSERT INTO spam_list_entries (account_id, domain_id, kind, type, value, network, comment)
     VALUES ($1, $2, $3, $4, $5, $6::cidr, $7) ON CONFLICT DO NOTHING RETURNING id`,
    [accountId, domainId, input.kind, parsed.type, parsed.value, parsed.network, comment],
  );
  if (!r.rows[0]) {
    const owner = input.account !== undefined ? `account ${normalizeAddress(input.account)}` : `domain ${normalizeDomain(input.domain!)}`;
    throw new AlreadyExists(`${parsed.value} is already on the ${input.kind} list of ${owner}`);
  }
  return (await getEntry(db, r.rows[0].id))!;
}

async function getEntry(db: Queryable, id: number): Promise<SpamListEntry | null> {
  const r = await db.query<EntryRow>(`${SELECT} WHERE e.id = $1`, [id]);
  return r.rows[0] ? toEntry(r.rows[0]) : null;
}

/** The entries of one account's or one domain's list (none given: every list), block before allow, then by value. */
export async function listSpamListEntries(db: Queryable, scope: SpamListScope = {}): Promise<SpamListEntry[]> {
  const { accountId, domainId } = await scopeIds(db, scope);
  const r = await db.query<EntryRow>(
    `${SELECT} WHERE ($1::bigint IS NULL OR e.account_id = $1) AND ($2::bigint IS NULL OR e.domain_id = $2)
     ORDER BY d.name NULLS FIRST, a.address, e.kind DESC, e.value`,
    [accountId, domainId],
  );
  return r.rows.map(toEntry);
}

/** Removes one entry by its id; answers what was removed. */
export async function removeSpamListEntry(db: Queryable, id: number): Promise<SpamListEntry> {
  if (!Number.isSafeInteger(id) || id < 1) throw new InvalidInput("the entry id must be a positive whole number");
  const entry = await getEntry(db, id);
  if (!entry) throw new NotFound(`list entry ${id} does not exist`);
  await db.query("DELETE FROM spam_list_entries WHERE id = $1", [id]);
  return entry;
}

export interface SpamVerdictSymbol {
  name: string;
  score: number;
  detail?: string;
}

/** The verdict of one message as the spam filter recorded it (see services/spam-filter/src/policy/verdict-record.ts). */
export interface SpamVerdict {
  mailId: string;
  source: "inbound" | "submission";
  action: string;
  score: number;
  symbols: SpamVerdictSymbol[];
  /** The verdict of each local recipient account (message symbols plus the account's own). */
  accounts: Array<{ accountId: number; address: string | null; action: string; score: number; symbols: SpamVerdictSymbol[] }>;
  authResults: string;
  mailFrom: string;
  recipients: string[];
  clientIp: string;
  classifiedAt: string;
}

interface VerdictRow {
  mail_id: string;
  source: "inbound" | "submission";
  action: string;
  score: number;
  symbols: SpamVerdictSymbol[];
  accounts: Array<{ accountId: number; action: string; score: number; symbols: SpamVerdictSymbol[] }>;
  auth_results: string;
  mail_from: string;
  recipients: string[];
  client_ip: string;
  classified_at: Date;
}

/** The recorded verdict of a message, or null when there is none (unknown, or older than the retention). */
export async function getSpamVerdict(db: Queryable, mailId: string): Promise<SpamVerdict | null> {
  const r = await db.query<VerdictRow>("SELECT * FROM spam_verdicts WHERE mail_id = $1", [mailId]);
  const row = r.rows[0];
  if (!row) return null;
  const ids = row.accounts.map((a) => a.accountId);
  const addresses = new Map<number, string>();
  if (ids.length > 0) {
    const a = await db.query<{ id: number; address: string }>("SELECT id, address FROM accounts WHERE id = ANY($1::bigint[])", [ids]);
    for (const { id, address } of a.rows) addresses.set(id, address);
  }
  return {
    mailId: row.mail_id,
    source: row.source,
    action: row.action,
    score: row.score,
    symbols: row.symbols,
    accounts: row.accounts.map((a) => ({ accountId: a.accountId, address: addresses.get(a.accountId) ?? null, action: a.action, score: a.score, symbols: a.symbols })),
    authResults: row.auth_results,
    mailFrom: row.mail_from,
    recipients: row.recipients,
    clientIp: row.client_ip,
    classifiedAt: row.classified_at.toISOString(),
  };
}
