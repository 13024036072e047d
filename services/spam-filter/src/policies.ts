import { BayesStore, accountBayesPolicy, bayesRule, rspamdRule, type AccountPolicy, type ClassifyResult, type Rule, type Source } from "@postline/antispam";
import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import type { MailAccepted } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import type { Registry } from "prom-client";
import { autolearnObserver } from "./autolearn.ts";
import { reputationAndListPolicies, writeBehindMetrics } from "./policy/index.ts";
import type { SpamFilterSettings } from "./settings.ts";

/** A classified message, handed to the observers after its mail.classified event was published. */
export interface ObservedVerdict {
  event: MailAccepted;
  source: Source;
  result: ClassifyResult;
}

/**
 * Learns from verdicts (reputation, reply tracking, autolearn, the verdict record). An observer that
 * throws is logged and counted; the verdict stands and the event is not handled again.
 */
export interface VerdictObserver {
  name: string;
  observe(verdict: ObservedVerdict): Promise<void>;
  /** Writes what it buffered (write-behind); the service awaits it on stop. */
  close?(): Promise<void>;
}

/** What the spam filter adds to the antispam library's rules. */
export interface Policies {
  /** Message-level checks, run beside the default rules. */
  rules: Rule[];
  /** Checks per recipient account. */
  accountPolicies: AccountPolicy[];
  observers: VerdictObserver[];
}

export interface PolicyDeps {
  db: Db;
  blobs: BlobStore;
  settings: SpamFilterSettings;
  logger: Logger;
  registry: Registry;
}

/** The spam filter's policies from its settings: one place, shared by the service and `postline spam classify`. */
export function createPolicies(deps: PolicyDeps): Policies {
  const { settings } = deps;
  const rules: Rule[] = [];
  const accountPolicies: AccountPolicy[] = [];
  const observers: VerdictObserver[] = [];
  // Bayes: the global model (BAYES_SPAM/HAM), the account's (BAYES_USER_*), autolearn of the global model; one store and cache.
  if (settings.POSTLINE_SPAM_BAYES) {
    const bayes = new BayesStore(deps.db, { cacheEntries: settings.POSTLINE_SPAM_BAYES_CACHE_ENTRIES, globalCacheSeconds: settings.POSTLINE_SPAM_BAYES_CACHE_SECONDS });
    const bayesOptions = {
      minSpam: settings.POSTLINE_SPAM_BAYES_MIN_SPAM,
      minHam: settings.POSTLINE_SPAM_BAYES_MIN_HAM,
      accountWeight: settings.POSTLINE_SPAM_BAYES_ACCOUNT_WEIGHT,
      logistic: settings.POSTLINE_SPAM_BAYES_LOGISTIC,
    };
    rules.push(bayesRule(bayes, bayesOptions));
    accountPolicies.push(accountBayesPolicy(bayes, bayesOptions));
    if (settings.POSTLINE_SPAM_AUTOLEARN) {
      observers.push(
        autolearnObserver(bayes, {
          spamScore: settings.POSTLINE_SPAM_AUTOLEARN_SPAM_SCORE,
          hamScore: settings.POSTLINE_SPAM_AUTOLEARN_HAM_SCORE,
          flushMs: settings.POSTLINE_SPAM_OBSERVER_FLUSH_MS,
          logger: deps.logger,
          registry: deps.registry,
          writeBehindMetrics: deps.registry ? writeBehindMetrics(deps.registry) : undefined,
        }),
      );
    }
  }
  // Reputation, allow/block lists, reply tracking, the verdict record (policy/).
  const reputationAndLists = reputationAndListPolicies(deps);
  rules.push(...reputationAndLists.rules);
  accountPolicies.push(...reputationAndLists.accountPolicies);
  observers.push(...reputationAndLists.observers);
  // Rspamd, when configured: its score merged as RSPAMD; Rspamd down → a rule error, classified without it.
  if (settings.POSTLINE_RSPAMD_URL) {
    rules.push(
      rspamdRule({
        url: settings.POSTLINE_RSPAMD_URL,
        password: settings.POSTLINE_RSPAMD_PASSWORD,
        weight: settings.POSTLINE_RSPAMD_WEIGHT,
        timeoutMs: settings.POSTLINE_RSPAMD_TIMEOUT_MS,
        honourReject: settings.POSTLINE_RSPAMD_HONOUR_REJECT,
      }),
    );
  }
  return { rules, accountPolicies, observers };
}
