export { createDnsResolver, parseDnsServers, isNoRecord, type DnsResolve, type DnsResolverOptions } from "./dns.ts";
export { cachedResolver, type DnsCacheOptions } from "./dns-cache.ts";
export { lookupDnsbl, type DnsblListing } from "./dnsbl.ts";
export { createSessionPolicy, type Rejection, type SessionPolicy, type SessionPolicyOptions } from "./session.ts";
export {
  createClassifier,
  messageOnlyInput,
  score,
  type Classifier,
  type ClassifierOptions,
  type ClassifyInput,
  type ClassifyResult,
  type AccountVerdict,
  type ScoredSymbol,
} from "./classifier.ts";
export { authenticateMessage, authResultsValue, type AuthOutcome } from "./authenticate.ts";
export { parseContent, type ContentView } from "./message.ts";
export { defaultRules, type Rule, type RuleContext, type RuleHit, type Source } from "./rules/index.ts";
export { defaultSymbols, type SymbolDefinition } from "./symbols.ts";
export { actionForScore, defaultThresholds, type Action, type Thresholds } from "./thresholds.ts";
export { antispamSchema, resolverFromSettings, sessionPolicyOptionsFromSettings, type AntispamSettings } from "./settings.ts";
export type { AccountContext, AccountPolicy, RecipientAccount } from "./policy.ts";
export {
  BayesStore,
  defaultExpiryOptions,
  type ExpiryOptions,
  type ExpiryResult,
  bayesTokens,
  messageKeyOf,
  bayesRule,
  accountBayesPolicy,
  trainingOrder,
  type BayesOptions,
  type BayesStoreOptions,
  type LearnItem,
  type LearnOutcome,
  type SpamClass,
} from "./bayes/index.ts";
export { checkWithRspamd, rspamdHits, rspamdRule, RspamdError, type RspamdEnvelope, type RspamdOptions, type RspamdResult, type RspamdSymbol } from "./rspamd.ts";
