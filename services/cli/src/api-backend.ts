import { AdminApiClient, AdminApiError } from "@postline/admin-api/client";
import type { DkimKeyView } from "@postline/dkim";
import type { DirectoryBackend } from "./backend.ts";

/** The commands' operations through the admin API (works while the standalone platform runs). */
export function apiBackend(baseUrl: string, token: string): DirectoryBackend {
  const c = new AdminApiClient({ baseUrl, token });
  const dkim = dkimClient(baseUrl, token);
  return {
    via: "api",
    listDomains: () => c.listDomains(),
    addDomain: (name, catchAll) => c.addDomain(name, catchAll),
    setCatchAll: (name, catchAll) => c.setCatchAll(name, catchAll),
    removeDomain: (name, force) => c.removeDomain(name, force),
    listAccounts: (domain) => c.listAccounts(domain),
    createAccount: (input) => c.createAccount(input),
    getAccount: (address) => c.getAccount(address),
    updateAccount: (address, changes) => c.updateAccount(address, changes),
    deleteAccount: (address) => c.deleteAccount(address),
    listAliases: (filter) => c.listAliases(filter),
    addAlias: (source, destination) => c.addAlias(source, destination),
    removeAlias: (source, destination) => c.removeAlias(source, destination),
    generateDkimKey: async (domain, options) => (await dkim<{ keys: DkimKeyView[] }>("POST", `${keysPath(domain)}`, options)).keys,
    listDkimKeys: async (domain) => (await dkim<{ keys: DkimKeyView[] }>("GET", keysPath(domain))).keys,
    retireDkimKey: (domain, selector) => dkim<DkimKeyView>("POST", `${keysPath(domain)}/${encodeURIComponent(selector)}/retire`),
    removeDkimKey: async (domain, selector) => {
      await dkim("DELETE", `${keysPath(domain)}/${encodeURIComponent(selector)}`);
    },
    close: async () => {},
  };
}

const keysPath = (domain: string) => `/v1/domains/${encodeURIComponent(domain)}/dkim`;

/** Requests to the DKIM routes, with the errors of AdminApiClient. */
function dkimClient(baseUrl: string, token: string) {
  const base = baseUrl.replace(/\/+$/, "");
  return async <T = undefined>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new AdminApiError(0, "unreachable", `cannot reach the admin API at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
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
  };
}
