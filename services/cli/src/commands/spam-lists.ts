import { InvalidArgumentError, type Command } from "commander";
import type { SpamListEntry, SpamListKind, SpamVerdict, SpamVerdictSymbol } from "@postline/directory";
import { CliError } from "../errors.ts";
import { withBackend } from "../open-backend.ts";
import { emit, table } from "../output.ts";
import { wantsJson } from "./common.ts";

// `postline spam allow|block|lists|unlist|verdict`: the allow and block lists of accounts and local
// domains, and the recorded verdict of a message. Through the admin API when POSTLINE_ADMIN_URL is
// set, else on the database (like `postline alias`).

interface ScopeOptions {
  account?: string;
  domain?: string;
}

function scopeOf(opts: ScopeOptions, required: boolean): ScopeOptions {
  if (opts.account !== undefined && opts.domain !== undefined) throw new CliError("give either --account or --domain, not both");
  if (required && opts.account === undefined && opts.domain === undefined) {
    throw new CliError("give the list: --account <address> (the account's own) or --domain <domain> (every account of the domain)");
  }
  return opts.account !== undefined ? { account: opts.account } : opts.domain !== undefined ? { domain: opts.domain } : {};
}

const ownerOf = (e: SpamListEntry) => (e.account !== null ? e.account : `domain ${e.domain}`);

function entryId(value: string): number {
  if (!/^\d{1,15}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("the entry id, a positive whole number (see postline spam lists)");
  return Number(value);
}

/** The symbols as a table, highest score first. */
function symbolTable(symbols: SpamVerdictSymbol[]): string {
  if (symbols.length === 0) return "  (no symbols)";
  const sorted = [...symbols].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return table(["  SYMBOL", "SCORE", "DETAIL"], sorted.map((s) => [`  ${s.name}`, s.score.toFixed(2), s.detail ?? ""]));
}

export function formatVerdict(v: SpamVerdict): string {
  const lines = [
    `mail id:      ${v.mailId}`,
    `source:       ${v.source}`,
    `classified:   ${v.classifiedAt}`,
    `client:       ${v.clientIp}`,
    `mail from:    ${v.mailFrom || "<>"}`,
    `recipients:   ${v.recipients.join(", ")}`,
    `auth results: ${v.authResults}`,
    `verdict:      ${v.action} (score ${v.score.toFixed(2)})`,
    "",
    symbolTable(v.symbols),
  ];
  for (const a of v.accounts) {
    lines.push("", `account ${a.address ?? `#${a.accountId} (deleted)`}: ${a.action} (score ${a.score.toFixed(2)})`, symbolTable(a.symbols));
  }
  return lines.join("\n");
}

export function registerSpamLists(spam: Command): void {
  const add = (kind: SpamListKind) =>
    spam
      .command(`${kind} <value>`)
      .description(
        kind === "allow"
          ? "allow a sender (address, domain, *.domain) or client IP/CIDR for an account or a whole local domain; senders must be authenticated (SPF/DKIM/DMARC) to match"
          : "block a sender (address, domain, *.domain; envelope or From) or client IP/CIDR for an account or a whole local domain",
      )
      .option("--account <address>", "the account's own list")
      .option("--domain <domain>", "the list of every account of this local domain")
      .option("--comment <text>", "why (shown by postline spam lists)")
      .action(async (value: string, opts: ScopeOptions & { comment?: string }, cmd: Command) => {
        const scope = scopeOf(opts, true);
        const e = await withBackend((b) => b.addSpamListEntry({ ...scope, kind, value, ...(opts.comment !== undefined ? { comment: opts.comment } : {}) }));
        emit(wantsJson(cmd), e, () => `added ${e.value} (${e.type}) to the ${e.kind} list of ${ownerOf(e)} (id ${e.id})`);
      });
  add("allow");
  add("block");

  spam
    .command("lists")
    .description("show allow and block entries: of an account, of a local domain, or all")
    .option("--account <address>", "only the account's own list")
    .option("--domain <domain>", "only the domain's list")
    .action(async (opts: ScopeOptions, cmd: Command) => {
      const scope = scopeOf(opts, false);
      const entries = await withBackend((b) => b.spamLists(scope));
      emit(wantsJson(cmd), entries, () =>
        entries.length === 0
          ? "no list entries"
          : table(["ID", "LIST", "KIND", "TYPE", "VALUE", "COMMENT"], entries.map((e) => [String(e.id), ownerOf(e), e.kind, e.type, e.value, e.comment ?? ""])),
      );
    });

  spam
    .command("unlist <id>")
    .description("remove a list entry by its id (see postline spam lists)")
    .action(async (id: string, _opts, cmd: Command) => {
      const e = await withBackend((b) => b.removeSpamListEntry(entryId(id)));
      emit(wantsJson(cmd), { removed: e }, () => `removed ${e.value} from the ${e.kind} list of ${ownerOf(e)}`);
    });

  spam
    .command("verdict <mailId>")
    .description("explain the spam filter's verdict of a message: every symbol with its score, and each recipient account's verdict")
    .action(async (mailId: string, _opts, cmd: Command) => {
      const v = await withBackend((b) => b.spamVerdict(mailId));
      if (!v) throw new CliError(`no recorded verdict for ${mailId} (unknown, or older than POSTLINE_SPAM_VERDICT_RETENTION_DAYS)`);
      emit(wantsJson(cmd), v, () => formatVerdict(v));
    });
}
