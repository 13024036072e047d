import type { AuthOutcome } from "../authenticate.ts";
import type { DnsResolve } from "../dns.ts";
import type { ContentView } from "../message.ts";

export type Source = "inbound" | "submission";

export interface RuleContext {
  source: Source;
  client: { ip: string; helo: string; authUser?: string };
  mailFrom: string;
  /** The envelope recipients (empty when classified without an envelope). */
  rcptTo: string[];
  /** The mail id (queue id), when the message has one. */
  queueId?: string;
  /** The parsed start of the message (see parseContent). */
  content: ContentView;
  /** mailauth's results; null for submitted mail (our own users) or when authentication could not run. */
  auth: AuthOutcome | null;
  sessionSymbols: string[];
  resolver: DnsResolve;
  dnsblZones: string[];
}

export interface RuleHit {
  name: string;
  detail?: string;
  /**
   * The score of this hit, overriding the symbol table's: for symbols whose weight is computed
   * (the Bayes probability, an Rspamd score). The table still names and describes the symbol.
   */
  score?: number;
}

/** One check: emits zero or more symbols; their scores come from the symbol table, not the rule. */
export interface Rule {
  name: string;
  /** The sources the rule runs for (default: both). */
  sources?: Source[];
  check(ctx: RuleContext): RuleHit[] | Promise<RuleHit[]>;
}
