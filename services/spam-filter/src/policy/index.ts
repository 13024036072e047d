import type { Policies, PolicyDeps } from "../policies.ts";
import { listsPolicy } from "./lists.ts";
import { Reputation } from "./reputation.ts";
import { replyContactsCache, replyTrackingObserver, replyTrackingPolicy } from "./reply-tracking.ts";
import { verdictRecordObserver } from "./verdict-record.ts";
import { writeBehindMetrics } from "./write-behind.ts";

export { listsPolicy, domainCandidates, type ListsOptions } from "./lists.ts";
export { AccountCache } from "./account-cache.ts";
export { WriteBehind, writeBehindMetrics, type WriteBehindMetrics, type WriteBehindOptions } from "./write-behind.ts";
export { Reputation, reputationKeys, reputationHit, verdictClass, type ReputationKey, type ReputationKind, type ReputationOptions } from "./reputation.ts";
export { replyContactsCache, replyTrackingObserver, replyTrackingPolicy, type ReplyTrackingOptions } from "./reply-tracking.ts";
export { verdictRecordObserver, type VerdictRecordOptions } from "./verdict-record.ts";
export { sendersOf, authenticatedDomains, dkimPassDomains, ipReputationKey, type Senders, type SenderIdentity } from "./senders.ts";

/**
 * Reputation, allow/block lists, reply tracking and the verdict record from the settings (added
 * to createPolicies). Observer order: the verdict record first, so a message is explainable even
 * when a learner after it fails. The verdict record and reputation are written behind
 * (POSTLINE_SPAM_OBSERVER_FLUSH_MS): the observers' close() writes what is waiting.
 */
export function reputationAndListPolicies({ db, settings, logger, registry }: Pick<PolicyDeps, "db" | "settings"> & Partial<Pick<PolicyDeps, "logger" | "registry">>): Policies {
  const out: Policies = { rules: [], accountPolicies: [], observers: [] };
  const writeBehind = {
    flushMs: settings.POSTLINE_SPAM_OBSERVER_FLUSH_MS,
    logger: logger?.child({ component: "spam-observers" }),
    metrics: registry ? writeBehindMetrics(registry) : undefined,
  };
  if (settings.POSTLINE_SPAM_VERDICT_RETENTION_DAYS > 0) {
    out.observers.push(verdictRecordObserver(db, { retentionDays: settings.POSTLINE_SPAM_VERDICT_RETENTION_DAYS, ...writeBehind }));
  }
  if (settings.POSTLINE_SPAM_REPUTATION) {
    const reputation = new Reputation(db, {
      minVerdicts: settings.POSTLINE_SPAM_REPUTATION_MIN_VERDICTS,
      goodScore: settings.POSTLINE_SPAM_REPUTATION_GOOD_SCORE,
      badScore: settings.POSTLINE_SPAM_REPUTATION_BAD_SCORE ?? settings.POSTLINE_SPAM_JUNK_SCORE,
      cacheSeconds: settings.POSTLINE_SPAM_REPUTATION_CACHE_SECONDS,
      maxAgeDays: settings.POSTLINE_SPAM_REPUTATION_MAX_AGE_DAYS,
      ...writeBehind,
    });
    out.rules.push(reputation.rule());
    out.observers.push(reputation.observer());
  }
  out.accountPolicies.push(listsPolicy(db, { cacheSeconds: settings.POSTLINE_SPAM_LISTS_CACHE_SECONDS }));
  const reply = {
    maxContacts: settings.POSTLINE_SPAM_REPLY_MAX_CONTACTS,
    maxAgeDays: settings.POSTLINE_SPAM_REPLY_MAX_AGE_DAYS,
    cache: replyContactsCache(settings.POSTLINE_SPAM_REPLY_CACHE_SECONDS),
  };
  out.accountPolicies.push(replyTrackingPolicy(db, reply));
  out.observers.push(replyTrackingObserver(db, reply));
  return out;
}
