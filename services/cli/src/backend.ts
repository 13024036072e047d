import type { AccountView, AliasView, DomainView } from "@postline/admin-api/client";
import type { DkimAlgorithm, DkimKeyView } from "@postline/dkim";
import type { SpamListEntry, SpamListKind, SpamVerdict } from "@postline/directory";

/**
 * What the commands need, served either by the admin API over HTTP (POSTLINE_ADMIN_URL) or by
 * the directory on the database directly. Both give the same JSON-shaped answers.
 */
export interface DirectoryBackend {
  /** "api" when going through the admin API, "db" when on the database. */
  readonly via: "api" | "db";
  listDomains(): Promise<DomainView[]>;
  addDomain(name: string, catchAll?: string | null): Promise<DomainView>;
  setCatchAll(name: string, catchAll: string | null): Promise<DomainView>;
  removeDomain(name: string, force?: boolean): Promise<void>;
  listAccounts(domain?: string): Promise<AccountView[]>;
  createAccount(input: { address: string; password: string; quotaBytes?: number | null }): Promise<AccountView>;
  getAccount(address: string): Promise<AccountView>;
  updateAccount(address: string, changes: { password?: string; quotaBytes?: number | null; disabled?: boolean }): Promise<AccountView>;
  deleteAccount(address: string): Promise<void>;
  listAliases(filter?: { domain?: string; source?: string }): Promise<AliasView[]>;
  addAlias(source: string, destination: string): Promise<AliasView>;
  removeAlias(source: string, destination: string): Promise<void>;
  generateDkimKey(domain: string, options: { algorithm?: DkimAlgorithm | "both"; selector?: string }): Promise<DkimKeyView[]>;
  listDkimKeys(domain: string): Promise<DkimKeyView[]>;
  retireDkimKey(domain: string, selector: string): Promise<DkimKeyView>;
  removeDkimKey(domain: string, selector: string): Promise<void>;
  // spam filter: allow/block lists and recorded verdicts (commands/spam-lists.ts)
  spamLists(scope?: { account?: string; domain?: string }): Promise<SpamListEntry[]>;
  addSpamListEntry(entry: { account?: string; domain?: string; kind: SpamListKind; value: string; comment?: string }): Promise<SpamListEntry>;
  removeSpamListEntry(id: number): Promise<SpamListEntry>;
  /** null when there is no recorded verdict. */
  spamVerdict(mailId: string): Promise<SpamVerdict | null>;
  close(): Promise<void>;
}
