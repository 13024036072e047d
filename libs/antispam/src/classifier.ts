import { Readable } from "node:stream";
import { authenticateMessage, type AuthOutcome } from "./authenticate.ts";
import { createDnsResolver, type DnsResolve } from "./dns.ts";
import { parseContent, type ContentView } from "./message.ts";
import type { AccountPolicy, RecipientAccount } from "./policy.ts";
import { defaultRules, type Rule, type RuleContext, type RuleHit, type Source } from "./rules/index.ts";
import { defaultSymbols, UNKNOWN_SYMBOL_SCORE, type SymbolDefinition } from "./symbols.ts";
import { actionForScore, defaultThresholds, strongerAction, type Action, type Thresholds } from "./thresholds.ts";

export interface ClassifierOptions {
  /** Our host name: the authserv-id in Authentication-Results and the receiving MTA for SPF. */
  hostname: string;
  resolver?: DnsResolve;
  dnsblZones?: string[];
  thresholds?: Thresholds;
  /** Added to / overriding the default symbol table. */
  symbols?: Record<string, SymbolDefinition>;
  /** The rules to run (default: defaultRules); pass `[...defaultRules, more]` to extend. */
  rules?: Rule[];
  /** Only this many bytes of a message are parsed for the content rules (default 4 MiB). */
  maxContentBytes?: number;
  /** Checks that give each recipient account a verdict of its own (see ClassifyInput.accounts). */
  accountPolicies?: AccountPolicy[];
}

export interface ClassifyInput {
  /** Opens the raw message; called once for a message up to maxContentBytes, twice for a larger one. */
  open(): Promise<Readable>;
  size: number;
  source: Source;
  client: { ip: string; helo: string; authUser?: string };
  mailFrom: string;
  rcptTo?: string[];
  /** The mail id (queue id), when the message has one. */
  queueId?: string;
  sessionSymbols?: string[];
  /**
   * Symbols decided outside the rules, scored with the same table (e.g. the spam filter's outbound
   * rate symbols, which need the shared database and the mail id).
   */
  hits?: RuleHit[];
  /**
   * False: no SPF/DKIM/DMARC/ARC (a message without its envelope and client, e.g. `postline spam
   * classify` or the spam benchmark). Default: authenticate inbound mail.
   */
  authenticate?: boolean;
  /** The local recipient accounts; each gets a verdict of its own from the account policies. */
  accounts?: RecipientAccount[];
}

/**
 * The input for a message known by its bytes only (no envelope, client or authentication), e.g.
 * `postline spam classify` or the spam benchmark; `accounts` adds the recipients' verdicts.
 */
export function messageOnlyInput(bytes: Buffer, accounts?: RecipientAccount[]): ClassifyInput {
  return {
    open: async () => Readable.from([bytes]),
    size: bytes.length,
    source: "inbound",
    client: { ip: "", helo: "" },
    mailFrom: "",
    authenticate: false,
    ...(accounts ? { accounts } : {}),
  };
}

export interface ScoredSymbol {
  name: string;
  score: number;
  detail?: string;
}

export interface ClassifyResult {
  action: Action;
  score: number;
  symbols: ScoredSymbol[];
  /** The Authentication-Results field value, e.g. `mx.example.test; spf=pass ...`. */
  authResults: string;
  /** Rules (or authentication) that threw; their symbols are missing from the verdict. */
  errors: Array<{ rule: string; error: unknown }>;
  /**
   * One verdict per recipient account of the input (in its order): the message's hits plus the
   * account policies' hits for that account.
   */
  accounts: AccountVerdict[];
  /** What the verdict was computed from, for whoever learns from it (autolearn, reputation). */
  content: ContentView;
  auth: AuthOutcome | null;
}

export interface AccountVerdict {
  accountId: number;
  action: Action;
  score: number;
  symbols: ScoredSymbol[];
}

export interface Classifier {
  classify(input: ClassifyInput): Promise<ClassifyResult>;
}

export function createClassifier(options: ClassifierOptions): Classifier {
  const resolver = options.resolver ?? createDnsResolver();
  const symbols = { ...defaultSymbols, ...options.symbols };
  const thresholds = options.thresholds ?? defaultThresholds;
  const rules = options.rules ?? defaultRules;
  const maxContentBytes = options.maxContentBytes ?? 4 * 1024 * 1024;
  const dnsblZones = options.dnsblZones ?? [];
  const accountPolicies = options.accountPolicies ?? [];

  return {
    async classify(input) {
      const errors: ClassifyResult["errors"] = [];
      // A failure to read the message (blob store down, blob missing) is not a rule error: it rejects, so
      // the caller retries instead of classifying a message it did not see.
      let readError: unknown;
      const open = async () => {
        const stream = await input.open();
        stream.on("error", (err: Error & { code?: string }) => {
          // ABORT_ERR: the content parser stopped reading at its cap on purpose
          if (err.code !== "ABORT_ERR") readError ??= err;
        });
        return stream;
      };
      // Small messages are read once and shared; large ones are streamed to mailauth in full and cut for parsing.
      const whole = input.size <= maxContentBytes ? await readAll(await open()) : null;
      const contentStream = whole ?? (await open());
      const authStream = input.source !== "inbound" || input.authenticate === false ? null : (whole ?? (await open()));

      const contentTask = (async (): Promise<ContentView> => {
        try {
          return await parseContent(contentStream, maxContentBytes);
        } catch (error) {
          errors.push({ rule: "content", error });
          return parseContent(Buffer.alloc(0), maxContentBytes);
        }
      })();
      const authTask = (async (): Promise<{ auth: AuthOutcome | null; authResults: string }> => {
        if (!authStream) return { auth: null, authResults: submissionAuthResults(options.hostname, input.client.authUser) };
        try {
          const result = await authenticateMessage({
            message: authStream,
            ip: input.client.ip,
            helo: input.client.helo,
            mailFrom: input.mailFrom,
            mta: options.hostname,
            resolver,
          });
          return { auth: result.outcome, authResults: result.authResults };
        } catch (error) {
          errors.push({ rule: "authentication", error });
          return { auth: null, authResults: `${options.hostname}; none` };
        }
      })();
      const [content, { auth, authResults }] = await Promise.all([contentTask, authTask]);
      if (readError) throw readError;

      const ctx: RuleContext = {
        source: input.source,
        client: { ip: input.client.ip, helo: input.client.helo, ...(input.client.authUser ? { authUser: input.client.authUser } : {}) },
        mailFrom: input.mailFrom,
        rcptTo: input.rcptTo ?? [],
        ...(input.queueId ? { queueId: input.queueId } : {}),
        content,
        auth,
        sessionSymbols: input.sessionSymbols ?? [],
        resolver,
        dnsblZones,
      };
      const applicable = rules.filter((r) => !r.sources || r.sources.includes(input.source));
      const hits = (await Promise.all(applicable.map((rule) => checked(rule.name, () => rule.check(ctx), errors)))).flat();
      hits.push(...(input.hits ?? []));

      const accounts = await Promise.all(
        (input.accounts ?? []).map(async (account): Promise<AccountVerdict> => {
          const accountCtx = { ...account, source: input.source, client: ctx.client, mailFrom: input.mailFrom, content, auth };
          const own = await Promise.all(accountPolicies.map((p) => checked(p.name, () => p.check(accountCtx), errors)));
          return { accountId: account.accountId, ...score([...hits, ...own.flat()], symbols, thresholds) };
        }),
      );
      return { ...score(hits, symbols, thresholds), authResults, errors, accounts, content, auth };
    },
  };
}

/** Sums the symbol scores and picks the action: the threshold's, raised by any symbol's minimum action. */
export function score(
  hits: RuleHit[],
  symbols: Record<string, SymbolDefinition>,
  thresholds: Thresholds,
): { action: Action; score: number; symbols: ScoredSymbol[] } {
  const scored = hits.map((hit): ScoredSymbol => {
    const definition = symbols[hit.name];
    const value = hit.score ?? definition?.score ?? UNKNOWN_SYMBOL_SCORE;
    return { name: hit.name, score: value, ...(hit.detail ? { detail: hit.detail } : {}) };
  });
  const total = Math.round(scored.reduce((sum, s) => sum + s.score, 0) * 100) / 100;
  let action = actionForScore(total, thresholds);
  for (const hit of hits) {
    const minimum = symbols[hit.name]?.minAction;
    if (minimum) action = strongerAction(action, minimum);
  }
  return { action, score: total, symbols: scored };
}

/** Runs one check; a check that throws adds no hits and is reported in `errors`. */
async function checked(name: string, check: () => RuleHit[] | Promise<RuleHit[]>, errors: ClassifyResult["errors"]): Promise<RuleHit[]> {
  try {
    return await check();
  } catch (error) {
    errors.push({ rule: name, error });
    return [];
  }
}

/** Mail of our own authenticated users: RFC 8601 `auth` method instead of SPF/DKIM/DMARC. */
function submissionAuthResults(hostname: string, authUser: string | undefined): string {
  return authUser ? `${hostname}; auth=pass smtp.auth=${authUser}` : `${hostname}; none`;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}
