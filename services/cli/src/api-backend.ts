import { AdminApiClient, AdminApiError } from "@postline/admin-api/client";
import type { DirectoryBackend } from "./backend.ts";

/** The commands' operations through the admin API (works while the standalone platform runs). */
export function apiBackend(baseUrl: string, token: string): DirectoryBackend {
  const c = new AdminApiClient({ baseUrl, token });
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
    generateDkimKey: (domain, options) => c.generateDkimKey(domain, options),
    listDkimKeys: (domain) => c.listDkimKeys(domain),
    retireDkimKey: (domain, selector) => c.retireDkimKey(domain, selector),
    removeDkimKey: (domain, selector) => c.removeDkimKey(domain, selector),
    spamLists: (scope) => c.spamLists(scope),
    addSpamListEntry: (entry) => c.addSpamListEntry(entry),
    removeSpamListEntry: (id) => c.removeSpamListEntry(id),
    spamVerdict: async (mailId) => {
      try {
        return await c.spamVerdict(mailId);
      } catch (err) {
        if (err instanceof AdminApiError && err.status === 404 && err.code === "not_found") return null;
        throw err;
      }
    },
    close: async () => {},
  };
}
