import type { AccountPolicy, ClassifyResult, Rule, Source } from "@postline/antispam";
import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import type { MailAccepted } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import type { Registry } from "prom-client";
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
export function createPolicies(_deps: PolicyDeps): Policies {
  const rules: Rule[] = [];
  const accountPolicies: AccountPolicy[] = [];
  const observers: VerdictObserver[] = [];
  return { rules, accountPolicies, observers };
}
