import { isIP } from "node:net";
import type { AccountContext, AccountPolicy, RuleHit } from "@postline/antispam";
import type { Queryable } from "@postline/db";
import { AccountCache } from "./account-cache.ts";
import { sendersOf, type SenderIdentity } from "./senders.ts";

// Allow and block lists (spam_list_entries, managed through libs/directory): per recipient
// account, the account's own list and its domain's list. Entries:
//   - address `user@example.com`: the envelope sender or the single From address, exactly;
//   - domain `example.com`: that domain exactly; `*.example.com`: the domain and its subdomains;
//   - IP `192.0.2.7`, `192.0.2.0/24`, `2001:db8::/32`: the connecting client.
// Block entries match the envelope sender and the From address alike (anything claimed is enough
// to refuse). Allow entries for addresses and domains match only an authenticated identity: the
// envelope sender when SPF passed for its domain, the From address when DMARC passed or a DKIM
// signature of its domain (or a parent) verified; a forged From never walks through. IP allow
// entries always apply (the client address is not forgeable over TCP).
// Within one list a block beats an allow; a match on the account's own list decides alone (the
// domain's list is then not scored), so a user can allow what the operator blocks and vice versa.

interface EntryRow {
  kind: "allow" | "block";
  type: "address" | "domain" | "ip";
  value: string;
  personal: boolean;
}

/** The values a domain can be listed as: itself, and `*.` of itself and of each parent. */
export function domainCandidates(domain: string): string[] {
  const labels = domain.split(".");
  const out = [domain];
  for (let i = 0; i < labels.length; i++) out.push(`*.${labels.slice(i).join(".")}`);
  return out;
}

function domainMatches(entry: string, domain: string): boolean {
  if (!entry.startsWith("*.")) return entry === domain;
  const base = entry.slice(2);
  return domain === base || domain.endsWith(`.${base}`);
}

function identityMatches(entry: EntryRow, id: SenderIdentity): boolean {
  return entry.type === "address" ? entry.value === id.address : domainMatches(entry.value, id.domain);
}

/** What an entry matched, or null; allow entries only on authenticated identities (unless `unauthenticated`). */
function match(entry: EntryRow, ids: Array<{ label: string; id: SenderIdentity }>, ip: string, unauthenticated = false): string | null {
  if (entry.type === "ip") return `${entry.value} (client ${ip})`;
  for (const { label, id } of ids) {
    if (!identityMatches(entry, id)) continue;
    if (entry.kind === "block" || id.authenticated || unauthenticated) return `${entry.value} (${label} ${id.address})`;
  }
  return null;
}

export interface ListsOptions {
  /**
   * Seconds an account's matching entries for one sender (addresses, domains, client IP) are reused
   * (default 0: every message asks). A change through the admin API or the CLI applies within this.
   */
  cacheSeconds?: number;
  /** At most this many cached lookups (default 10000). */
  cacheEntries?: number;
}

export function listsPolicy(db: Queryable, options: ListsOptions = {}): AccountPolicy {
  const cache = new AccountCache<EntryRow[]>((options.cacheSeconds ?? 0) * 1000, options.cacheEntries);
  return {
    name: "lists",
    async check(ctx: AccountContext): Promise<RuleHit[]> {
      if (ctx.source !== "inbound") return [];
      const senders = sendersOf(ctx.mailFrom, ctx.content, ctx.auth);
      const ids = [
        ...(senders.envelope ? [{ label: "envelope", id: senders.envelope }] : []),
        ...(senders.from ? [{ label: "From", id: senders.from }] : []),
      ];
      const ip = ctx.client.ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1");
      const addresses = ids.map((i) => i.id.address);
      const domains = [...new Set(ids.flatMap((i) => domainCandidates(i.id.domain)))];
      const client = isIP(ip) ? ip : null;
      const rows = await cache.get(ctx.accountId, JSON.stringify([addresses, domains, client]), async () => {
        const r = await db.query<EntryRow>(
          `SELECT e.kind, e.type, e.value, e.account_id IS NOT NULL AS personal
             FROM accounts a JOIN spam_list_entries e ON e.account_id = a.id OR e.domain_id = a.domain_id
            WHERE a.id = $1 AND ((e.type = 'address' AND e.value = ANY($2::text[]))
                              OR (e.type = 'domain' AND e.value = ANY($3::text[]))
                              OR (e.type = 'ip' AND $4::inet <<= e.network))`,
          [ctx.accountId, addresses, domains, client],
        );
        return r.rows;
      });
      if (rows.length === 0) return [];

      const hits: RuleHit[] = [];
      const decide = (personal: boolean): boolean => {
        const entries = rows.filter((e) => e.personal === personal);
        const prefix = personal ? "USER" : "DOMAIN";
        const blocked = entries.map((e) => (e.kind === "block" ? match(e, ids, ip) : null)).filter((m) => m !== null);
        if (blocked.length > 0) {
          hits.push({ name: `${prefix}_BLOCKLIST`, detail: blocked.join(", ") });
          return true;
        }
        const allowed = entries.map((e) => (e.kind === "allow" ? match(e, ids, ip) : null)).filter((m) => m !== null);
        if (allowed.length > 0) {
          hits.push({ name: `${prefix}_ALLOWLIST`, detail: allowed.join(", ") });
          return true;
        }
        const unverified = entries.map((e) => (e.kind === "allow" ? match(e, ids, ip, true) : null)).filter((m) => m !== null);
        if (unverified.length > 0) hits.push({ name: "ALLOWLIST_UNAUTHENTICATED", detail: `${personal ? "account" : "domain"} list: ${unverified.join(", ")}` });
        return false;
      };
      if (!decide(true)) decide(false);
      return hits;
    },
  };
}
