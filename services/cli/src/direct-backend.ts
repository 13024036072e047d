import * as directory from "@postline/directory";
import * as dkim from "@postline/dkim";
import { accountView, aliasView, domainView } from "@postline/admin-api/client";
import type { DirectoryBackend } from "./backend.ts";
import type { Db } from "@postline/db";

/** The commands' operations on the database through libs/directory. */
export function directBackend(db: Db): DirectoryBackend {
  return {
    via: "db",
    listDomains: async () => (await directory.listDomains(db)).map(domainView),
    addDomain: async (name, catchAll) => domainView(await directory.addDomain(db, name, { catchAll: catchAll ?? null })),
    setCatchAll: async (name, catchAll) => domainView(await directory.setCatchAll(db, name, catchAll)),
    removeDomain: (name, force) => directory.removeDomain(db, name, { force: force ?? false }),
    listAccounts: async (domain) => (await directory.listAccounts(db, { domain })).map(accountView),
    createAccount: async (input) => accountView(await directory.createAccount(db, input)),
    getAccount: async (address) => accountView(await directory.getAccount(db, address)),
    updateAccount: async (address, changes) => accountView(await directory.updateAccount(db, address, changes)),
    deleteAccount: (address) => directory.deleteAccount(db, address),
    listAliases: async (filter) => (await directory.listAliases(db, filter)).map(aliasView),
    addAlias: async (source, destination) => aliasView(await directory.addAlias(db, source, destination)),
    removeAlias: (source, destination) => directory.removeAlias(db, source, destination),
    generateDkimKey: async (domain, options) => (await dkim.generateDkimKey(db, domain, options)).map(dkim.dkimKeyView),
    listDkimKeys: async (domain) => (await dkim.listDkimKeys(db, domain)).map(dkim.dkimKeyView),
    retireDkimKey: async (domain, selector) => dkim.dkimKeyView(await dkim.retireDkimKey(db, domain, selector)),
    removeDkimKey: (domain, selector) => dkim.removeDkimKey(db, domain, selector),
    spamLists: (scope) => directory.listSpamListEntries(db, scope),
    addSpamListEntry: (entry) => directory.addSpamListEntry(db, entry),
    removeSpamListEntry: (id) => directory.removeSpamListEntry(db, id),
    spamVerdict: (mailId) => directory.getSpamVerdict(db, mailId),
    close: () => db.close(),
  };
}
