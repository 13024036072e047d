import type { DkimAlgorithm, DkimKeyView } from "@postline/dkim";
import type { SpamListEntry, SpamListKind, SpamVerdict } from "@postline/directory";
import type { AccountView, AliasView, DomainView, QueueMessageView, QueueRecipientView, QueueSummaryView } from "./views.ts";

export interface AdminApiClientOptions {
  /** e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  token: string;
}

/** An error response of the admin API, or a failure to reach it (status 0). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AdminApiError";
  }
}

/** A typed HTTP client for /v1 of the admin API (used by the `postline` CLI). */
export class AdminApiClient {
  private readonly baseUrl: string;

  constructor(private readonly options: AdminApiClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async listDomains(): Promise<DomainView[]> {
    return (await this.call<{ domains: DomainView[] }>("GET", "/v1/domains")).domains;
  }

  addDomain(name: string, catchAll?: string | null): Promise<DomainView> {
    return this.call("POST", "/v1/domains", { name, ...(catchAll !== undefined ? { catchAll } : {}) });
  }

  getDomain(name: string): Promise<DomainView> {
    return this.call("GET", `/v1/domains/${encodeURIComponent(name)}`);
  }

  setCatchAll(name: string, catchAll: string | null): Promise<DomainView> {
    return this.call("PATCH", `/v1/domains/${encodeURIComponent(name)}`, { catchAll });
  }

  async removeDomain(name: string, force = false): Promise<void> {
    await this.call("DELETE", `/v1/domains/${encodeURIComponent(name)}${force ? "?force=true" : ""}`);
  }

  /** All accounts (following the pages), optionally of one domain. */
  async listAccounts(domain?: string): Promise<AccountView[]> {
    const all: AccountView[] = [];
    let after: string | null = null;
    do {
      const q = new URLSearchParams();
      if (domain !== undefined) q.set("domain", domain);
      if (after !== null) q.set("after", after);
      const page: { accounts: AccountView[]; next: string | null } = await this.call("GET", `/v1/accounts?${q}`);
      all.push(...page.accounts);
      after = page.next;
    } while (after !== null);
    return all;
  }

  createAccount(input: { address: string; password: string; quotaBytes?: number | null }): Promise<AccountView> {
    return this.call("POST", "/v1/accounts", input);
  }

  getAccount(address: string): Promise<AccountView> {
    return this.call("GET", `/v1/accounts/${encodeURIComponent(address)}`);
  }

  updateAccount(address: string, changes: { password?: string; quotaBytes?: number | null; disabled?: boolean }): Promise<AccountView> {
    return this.call("PATCH", `/v1/accounts/${encodeURIComponent(address)}`, changes);
  }

  async deleteAccount(address: string): Promise<void> {
    await this.call("DELETE", `/v1/accounts/${encodeURIComponent(address)}`);
  }

  async listAliases(filter: { domain?: string; source?: string } = {}): Promise<AliasView[]> {
    const q = new URLSearchParams(Object.entries(filter).filter((e): e is [string, string] => e[1] !== undefined));
    return (await this.call<{ aliases: AliasView[] }>("GET", `/v1/aliases?${q}`)).aliases;
  }

  addAlias(source: string, destination: string): Promise<AliasView> {
    return this.call("POST", "/v1/aliases", { source, destination });
  }

  async removeAlias(source: string, destination: string): Promise<void> {
    await this.call("DELETE", `/v1/aliases?${new URLSearchParams({ source, destination })}`);
  }

  async generateDkimKey(domain: string, options: { algorithm?: DkimAlgorithm | "both"; selector?: string }): Promise<DkimKeyView[]> {
    return (await this.call<{ keys: DkimKeyView[] }>("POST", dkimPath(domain), options)).keys;
  }

  async listDkimKeys(domain: string): Promise<DkimKeyView[]> {
    return (await this.call<{ keys: DkimKeyView[] }>("GET", dkimPath(domain))).keys;
  }

  retireDkimKey(domain: string, selector: string): Promise<DkimKeyView> {
    return this.call("POST", `${dkimPath(domain)}/${encodeURIComponent(selector)}/retire`);
  }

  async removeDkimKey(domain: string, selector: string): Promise<void> {
    await this.call("DELETE", `${dkimPath(domain)}/${encodeURIComponent(selector)}`);
  }

  /** One page of the outbound queue (default: queued and deferred recipients, newest first). */
  queueList(filter: { status?: string; domain?: string; limit?: number; before?: string } = {}): Promise<{ queue: QueueRecipientView[]; next: string | null }> {
    const q = new URLSearchParams(
      Object.entries(filter)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.call("GET", `/v1/queue?${q}`);
  }

  queueSummary(top?: number): Promise<QueueSummaryView> {
    return this.call("GET", `/v1/queue/summary${top !== undefined ? `?top=${top}` : ""}`);
  }

  queueShow(mailId: string): Promise<QueueMessageView> {
    return this.call("GET", `/v1/queue/${encodeURIComponent(mailId)}`);
  }

  /** Retry now; answers the recipients made due. */
  async queueRetry(mailId: string, recipient?: string): Promise<QueueRecipientView[]> {
    const body = recipient !== undefined ? { recipient } : {};
    return (await this.call<{ scheduled: QueueRecipientView[] }>("POST", `/v1/queue/${encodeURIComponent(mailId)}/retry`, body)).scheduled;
  }

  /** Deletes waiting recipients without a DSN; answers the recipients deleted. */
  async queueDelete(mailId: string, recipient?: string): Promise<QueueRecipientView[]> {
    const q = recipient !== undefined ? `?${new URLSearchParams({ recipient })}` : "";
    return (await this.call<{ deleted: QueueRecipientView[] }>("DELETE", `/v1/queue/${encodeURIComponent(mailId)}${q}`)).deleted;
  }

  /** Allow and block entries of one account, one local domain, or (neither) all. */
  async spamLists(scope: { account?: string; domain?: string } = {}): Promise<SpamListEntry[]> {
    const q = new URLSearchParams(Object.entries(scope).filter((e): e is [string, string] => e[1] !== undefined));
    return (await this.call<{ entries: SpamListEntry[] }>("GET", `/v1/spam/lists?${q}`)).entries;
  }

  addSpamListEntry(entry: { account?: string; domain?: string; kind: SpamListKind; value: string; comment?: string }): Promise<SpamListEntry> {
    return this.call("POST", "/v1/spam/lists", entry);
  }

  /** Removes one entry; answers what was removed. */
  removeSpamListEntry(id: number): Promise<SpamListEntry> {
    return this.call("DELETE", `/v1/spam/lists/${encodeURIComponent(String(id))}`);
  }

  /** The recorded verdict of a message (404 AdminApiError when there is none). */
  spamVerdict(mailId: string): Promise<SpamVerdict> {
    return this.call("GET", `/v1/spam/verdicts/${encodeURIComponent(mailId)}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.token}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminApiError(0, "unreachable", `cannot reach the admin API at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new AdminApiError(res.status, error?.code ?? `http_${res.status}`, error?.message ?? `admin API answered ${res.status} ${res.statusText}`);
    }
    return parsed as T;
  }
}

const dkimPath = (domain: string) => `/v1/domains/${encodeURIComponent(domain)}/dkim`;
