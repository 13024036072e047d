export { DirectoryError, InvalidInput, NotFound, DomainNotFound, AlreadyExists, DomainNotEmpty, type DirectoryErrorCode } from "./errors.ts";
export { normalizeDomain, normalizeLocalPart, normalizeAddress, parseAddress, type Address } from "./names.ts";
export { hashPassword, checkPasswordHash, validatePassword, PASSWORD_HASH_OPTIONS, MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH } from "./passwords.ts";
export { addDomain, findDomain, getDomain, listDomains, setCatchAll, removeDomain, type Domain } from "./domains.ts";
export {
  createAccount,
  findAccount,
  getAccount,
  listAccounts,
  updateAccount,
  setPassword,
  setQuota,
  setDisabled,
  deleteAccount,
  verifyPassword,
  validateQuota,
  type Account,
  type NewAccount,
  type AccountChanges,
  type ListOptions,
} from "./accounts.ts";
export { DEFAULT_MAILBOXES, newUidValidity } from "./mailboxes.ts";
export { addAlias, listAliases, removeAlias, type Alias, type AliasFilter } from "./aliases.ts";
export { resolveRecipient, type Resolution, type ResolvedAccount, type ResolveOptions } from "./resolve.ts";
export {
  parseSpamListValue,
  addSpamListEntry,
  listSpamListEntries,
  removeSpamListEntry,
  getSpamVerdict,
  type SpamListEntry,
  type SpamListKind,
  type SpamListType,
  type SpamListScope,
  type NewSpamListEntry,
  type SpamVerdict,
  type SpamVerdictSymbol,
} from "./spam-policy.ts";
