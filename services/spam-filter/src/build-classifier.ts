import { createClassifier, defaultRules, resolverFromSettings, type Classifier, type DnsResolve } from "@postline/antispam";
import { createPolicies, type Policies, type PolicyDeps } from "./policies.ts";
import { outboundSymbols } from "./outbound-rate.ts";

/** Rules that look at the SMTP client (its address, its reverse DNS): meaningless without one. */
const CLIENT_RULES = new Set(["dnsbl", "reverse-dns", "session-symbols"]);

export interface BuildClassifierOptions extends PolicyDeps {
  /** Default: the resolver the settings describe. */
  resolver?: DnsResolve;
  /**
   * A message without its envelope and client (`postline spam classify`): the rules about the
   * client are left out. Classify it with `authenticate: false` too.
   */
  messageOnly?: boolean;
}

export interface BuiltClassifier {
  classifier: Classifier;
  policies: Policies;
}

/**
 * The spam filter's classifier from its settings: the default rules, the policies of createPolicies
 * (Bayes, reputation, lists, ...) and the thresholds. One factory, shared by the service and by
 * `postline spam classify`, so the command answers with the models and settings the service uses.
 */
export function buildClassifier(options: BuildClassifierOptions): BuiltClassifier {
  const { settings } = options;
  const policies = createPolicies({ db: options.db, blobs: options.blobs, settings, logger: options.logger, registry: options.registry });
  const rules = [...defaultRules, ...policies.rules].filter((r) => !options.messageOnly || !CLIENT_RULES.has(r.name));
  const classifier = createClassifier({
    hostname: settings.POSTLINE_HOSTNAME,
    resolver: options.resolver ?? resolverFromSettings(settings),
    dnsblZones: options.messageOnly ? [] : settings.POSTLINE_DNSBL_ZONES,
    thresholds: {
      junk: settings.POSTLINE_SPAM_JUNK_SCORE,
      quarantine: settings.POSTLINE_SPAM_QUARANTINE_SCORE,
      reject: settings.POSTLINE_SPAM_REJECT_SCORE,
    },
    maxContentBytes: settings.POSTLINE_SPAM_MAX_CONTENT_BYTES,
    symbols: outboundSymbols(settings.POSTLINE_SPAM_OUTBOUND_SCORE ?? settings.POSTLINE_SPAM_QUARANTINE_SCORE),
    rules,
    accountPolicies: policies.accountPolicies,
  });
  return { classifier, policies };
}
