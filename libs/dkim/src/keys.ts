import { generateKeyPair as generateKeyPairCb, createPublicKey } from "node:crypto";
import { promisify } from "node:util";
import type { Db, Queryable } from "@postline/db";
import { AlreadyExists, InvalidInput, NotFound, getDomain, normalizeDomain } from "@postline/directory";

const generateKeyPair = promisify(generateKeyPairCb);

export type DkimAlgorithm = "rsa-sha256" | "ed25519-sha256";
export const DKIM_ALGORITHMS: readonly DkimAlgorithm[] = ["rsa-sha256", "ed25519-sha256"];

/** The TXT record a key needs in DNS (RFC 6376 §3.6.2; Ed25519: RFC 8463, raw 32-byte key). */
export interface DkimDnsRecord {
  /** `<selector>._domainkey.<domain>` (no trailing dot). */
  name: string;
  type: "TXT";
  /** `v=DKIM1; k=rsa; p=...` — one logical string; split it into ≤255-byte strings in a zone file. */
  value: string;
}

/** A stored key without its private part (what listing, the admin API and the CLI show). */
export interface DkimKeyInfo {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** base64 of the p= tag: SPKI DER for RSA, the raw 32-byte key for Ed25519. */
  publicKey: string;
  /** Signs outgoing mail when true; a retired key (false) stays listed and must stay in DNS until removed. */
  active: boolean;
  createdAt: Date;
  dnsRecord: DkimDnsRecord;
}

/** What signing needs: an active key with its private part. */
export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PKCS#8 PEM. */
  privateKey: string;
}

export interface GenerateDkimKeyOptions {
  /** Default "rsa-sha256". "both" makes one RSA-2048 and one Ed25519 key. */
  algorithm?: DkimAlgorithm | "both";
  /**
   * The selector. With one algorithm it is used as given; with "both" the keys get `<selector>-rsa`
   * and `<selector>-ed`. Default: `pl<yyyymmdd>` (UTC) with `-rsa` / `-ed`, and a letter b, c, …
   * after the date when that name is already taken for the domain.
   */
  selector?: string;
}

/** A DNS label sequence usable as a selector (lower-case LDH labels, dots allowed: RFC 6376 §3.1). */
const SELECTOR_RE = /^(?=.{1,200}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

export function normalizeSelector(selector: string): string {
  const s = selector.trim().toLowerCase();
  if (!SELECTOR_RE.test(s)) throw new InvalidInput(`invalid DKIM selector ${JSON.stringify(selector)}: letters, digits, hyphens and dots (DNS labels)`);
  return s;
}

export function dnsRecordFor(domain: string, selector: string, algorithm: DkimAlgorithm, publicKey: string): DkimDnsRecord {
  const k = algorithm === "rsa-sha256" ? "rsa" : "ed25519";
  return { name: `${selector}._domainkey.${domain}`, type: "TXT", value: `v=DKIM1; k=${k}; p=${publicKey}` };
}

/** The TXT value split into ≤255-byte character-strings, as a DNS server serves it. */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out;
}

interface KeyPair {
  privateKey: string;
  publicKey: string;
}

async function newKeyPair(algorithm: DkimAlgorithm): Promise<KeyPair> {
  if (algorithm === "rsa-sha256") {
    const { privateKey, publicKey } = await generateKeyPair("rsa", {
      modulusLength: 2048,
      publicKeyEncoding: { type: "spki", format: "der" },
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
    });
    return { privateKey, publicKey: publicKey.toString("base64") };
  }
  const { privateKey, publicKey } = await generateKeyPair("ed25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  // SPKI DER of Ed25519 is a fixed 12-byte prefix and the raw 32-byte key; p= takes the raw key.
  return { privateKey, publicKey: publicKey.subarray(publicKey.length - 32).toString("base64") };
}

/** The base64 p= value of a PKCS#8 PEM private key (used to check stored keys). */
export function publicKeyOf(privateKeyPem: string, algorithm: DkimAlgorithm): string {
  const der = createPublicKey(privateKeyPem).export({ type: "spki", format: "der" });
  return algorithm === "rsa-sha256" ? der.toString("base64") : der.subarray(der.length - 32).toString("base64");
}

interface KeyRow {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  public_key: string;
  active: boolean;
  created_at: Date | string;
}

function toInfo(r: KeyRow): DkimKeyInfo {
  return {
    domain: r.domain,
    selector: r.selector,
    algorithm: r.algorithm,
    publicKey: r.public_key,
    active: r.active,
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(r.created_at),
    dnsRecord: dnsRecordFor(r.domain, r.selector, r.algorithm, r.public_key),
  };
}

const SUFFIX: Record<DkimAlgorithm, string> = { "rsa-sha256": "-rsa", "ed25519-sha256": "-ed" };

async function takenSelectors(db: Queryable, domainId: number): Promise<Set<string>> {
  const r = await db.query<{ selector: string }>(`SELECT selector FROM dkim_keys WHERE domain_id = $1`, [domainId]);
  return new Set(r.rows.map((x) => x.selector));
}

/**
 * Creates a key pair (or one of each algorithm), stores it active, and returns it with the TXT
 * record to publish. Existing keys are left as they are: they keep signing until retired and stay
 * valid (listed, to be kept in DNS) until removed — this is how a key is rotated.
 */
export async function generateDkimKey(db: Db, domain: string, options: GenerateDkimKeyOptions = {}): Promise<DkimKeyInfo[]> {
  const choice = options.algorithm ?? "rsa-sha256";
  if (choice !== "both" && !DKIM_ALGORITHMS.includes(choice)) throw new InvalidInput(`unknown DKIM algorithm ${JSON.stringify(choice)}`);
  const algorithms: DkimAlgorithm[] = choice === "both" ? ["rsa-sha256", "ed25519-sha256"] : [choice];
  const d = await getDomain(db, domain);
  const pairs = await Promise.all(algorithms.map(newKeyPair));

  return db.transaction(async (tx) => {
    let selectors: string[];
    if (options.selector !== undefined) {
      const base = normalizeSelector(options.selector);
      selectors = algorithms.length === 1 ? [base] : algorithms.map((a) => normalizeSelector(base + SUFFIX[a]));
    } else {
      const taken = await takenSelectors(tx, d.id);
      const date = new Date().toISOString().slice(0, 10).replaceAll("-", "");
      selectors = [];
      for (let i = 0; i < 26 * 26 && selectors.length === 0; i++) {
        const extra = i === 0 ? "" : i < 26 ? String.fromCharCode(97 + i) : String.fromCharCode(97 + Math.floor(i / 26)) + String.fromCharCode(97 + (i % 26));
        const candidate = algorithms.map((a) => `pl${date}${extra}${SUFFIX[a]}`);
        if (candidate.every((s) => !taken.has(s))) selectors = candidate;
      }
      if (selectors.length === 0) throw new InvalidInput(`no free default selector left for ${d.name} today; pass one`);
    }
    const out: DkimKeyInfo[] = [];
    for (const [i, algorithm] of algorithms.entries()) {
      const selector = selectors[i]!;
      const pair = pairs[i]!;
      const r = await tx.query<KeyRow>(
        `INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, public_key) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (domain_id, selector) DO NOTHING
         RETURNING $6::text AS domain, selector, algorithm, public_key, active, created_at`,
        [d.id, selector, algorithm, pair.privateKey, pair.publicKey, d.name],
      );
      if (!r.rows[0]) throw new AlreadyExists(`DKIM selector ${selector} already exists for ${d.name}`);
      out.push(toInfo(r.rows[0]));
    }
    return out;
  });
}

/** The domain's keys, active and retired, oldest first; never the private keys. */
export async function listDkimKeys(db: Queryable, domain: string): Promise<DkimKeyInfo[]> {
  const d = await getDomain(db, domain);
  const r = await db.query<KeyRow>(
    `SELECT $2::text AS domain, selector, algorithm, public_key, active, created_at FROM dkim_keys
     WHERE domain_id = $1 ORDER BY created_at, id`,
    [d.id, d.name],
  );
  return r.rows.map(toInfo);
}

/** Stops signing with a key; it stays listed (and its DNS record should stay published) until removed. */
export async function retireDkimKey(db: Queryable, domain: string, selector: string): Promise<DkimKeyInfo> {
  const d = await getDomain(db, domain);
  const s = normalizeSelector(selector);
  const r = await db.query<KeyRow>(
    `UPDATE dkim_keys SET active = false WHERE domain_id = $1 AND selector = $2
     RETURNING $3::text AS domain, selector, algorithm, public_key, active, created_at`,
    [d.id, s, d.name],
  );
  if (!r.rows[0]) throw new NotFound(`no DKIM key with selector ${s} for ${d.name}`);
  return toInfo(r.rows[0]);
}

/** Deletes a key (active or retired); after this its DNS record can be withdrawn. */
export async function removeDkimKey(db: Queryable, domain: string, selector: string): Promise<void> {
  const d = await getDomain(db, domain);
  const s = normalizeSelector(selector);
  const r = await db.query(`DELETE FROM dkim_keys WHERE domain_id = $1 AND selector = $2`, [d.id, s]);
  if (!r.rowCount) throw new NotFound(`no DKIM key with selector ${s} for ${d.name}`);
}

/**
 * The keys outgoing mail of `domain` is signed with: every active key, RSA first, then newest
 * first. An unknown domain, or one without keys, gives [] (the message goes out unsigned).
 */
export async function activeSigningKeys(db: Queryable, domain: string): Promise<SigningKey[]> {
  let name: string;
  try {
    name = normalizeDomain(domain);
  } catch {
    return [];
  }
  const r = await db.query<{ domain: string; selector: string; algorithm: DkimAlgorithm; private_key: string }>(
    `SELECT d.name AS domain, k.selector, k.algorithm, k.private_key
       FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
      WHERE d.name = $1 AND k.active
      ORDER BY k.algorithm DESC, k.created_at DESC, k.id DESC`,
    [name],
  );
  return r.rows.map((x) => ({ domain: x.domain, selector: x.selector, algorithm: x.algorithm, privateKey: x.private_key }));
}

/** The JSON form of a key (the admin API's and the CLI's shape). */
export interface DkimKeyView {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  publicKey: string;
  active: boolean;
  createdAt: string;
  dnsRecord: DkimDnsRecord;
}

export function dkimKeyView(k: DkimKeyInfo): DkimKeyView {
  return { ...k, createdAt: k.createdAt.toISOString(), dnsRecord: { ...k.dnsRecord } };
}
