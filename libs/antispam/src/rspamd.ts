import type { Rule, RuleHit } from "./rules/index.ts";

/** How the spam filter talks to an Rspamd normal worker (POSTLINE_RSPAMD_*). */
export interface RspamdOptions {
  /** Base URL of the normal worker, e.g. `http://127.0.0.1:11333`. */
  url: string;
  /** Sent as the `Password` header (Rspamd's `password` of the worker, or a proxy's). */
  password?: string;
  /** Rspamd's score is multiplied by this into the RSPAMD hit (default 1). */
  weight?: number;
  /** The whole request (default 5000 ms); past it the check fails. */
  timeoutMs?: number;
  /** Rspamd's action `reject` adds RSPAMD_REJECT, whose minimum action is reject (default false). */
  honourReject?: boolean;
  /** Symbols named in the RSPAMD hit's detail, highest score first (default 6). */
  detailSymbols?: number;
}

/** What the message is sent with: the envelope and client as Rspamd's request headers. */
export interface RspamdEnvelope {
  ip?: string;
  helo?: string;
  mailFrom?: string;
  rcptTo?: string[];
  queueId?: string;
  /** The authenticated user (submissions): Rspamd then skips its checks for inbound mail. */
  user?: string;
}

export interface RspamdSymbol {
  name: string;
  score: number;
  options?: string[];
}

/** The parts of Rspamd's `/checkv2` answer we use. */
export interface RspamdResult {
  action: string;
  score: number;
  requiredScore?: number;
  symbols: RspamdSymbol[];
}

/** Thrown when Rspamd does not answer usefully (down, timeout, HTTP error, bad JSON). */
export class RspamdError extends Error {
  override name = "RspamdError";
}

/** Asks Rspamd about one message (HTTP POST `/checkv2`, the raw message as the body). */
export async function checkWithRspamd(message: Buffer, envelope: RspamdEnvelope, options: RspamdOptions): Promise<RspamdResult> {
  const headers = new Headers({ "Content-Type": "application/octet-stream" });
  if (envelope.ip) headers.set("IP", envelope.ip);
  if (envelope.helo) headers.set("Helo", envelope.helo);
  // Rspamd reads `From: <>` as the null sender.
  if (envelope.mailFrom !== undefined) headers.set("From", envelope.mailFrom === "" ? "<>" : envelope.mailFrom);
  for (const rcpt of envelope.rcptTo ?? []) headers.append("Rcpt", rcpt);
  if (envelope.queueId) headers.set("Queue-Id", envelope.queueId);
  if (envelope.user) headers.set("User", envelope.user);
  if (options.password) headers.set("Password", options.password);
  const url = `${options.url.replace(/\/+$/, "")}/checkv2`;
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body: message, signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  } catch (err) {
    throw new RspamdError(`rspamd at ${options.url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch (err) {
    throw new RspamdError(`rspamd at ${options.url}: HTTP ${response.status}, not JSON`, { cause: err });
  }
  if (!response.ok) throw new RspamdError(`rspamd at ${options.url}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  return parseCheckResult(body);
}

function parseCheckResult(body: unknown): RspamdResult {
  const b = body as { action?: unknown; score?: unknown; required_score?: unknown; symbols?: unknown; error?: unknown };
  if (typeof b?.error === "string") throw new RspamdError(`rspamd: ${b.error}`);
  if (typeof b?.action !== "string" || typeof b.score !== "number") throw new RspamdError(`rspamd: unexpected answer ${JSON.stringify(body).slice(0, 200)}`);
  const symbols: RspamdSymbol[] = [];
  if (b.symbols && typeof b.symbols === "object") {
    for (const [name, s] of Object.entries(b.symbols as Record<string, { score?: unknown; options?: unknown }>)) {
      const score = typeof s?.score === "number" ? s.score : 0;
      const options = Array.isArray(s?.options) ? s.options.filter((o): o is string => typeof o === "string") : undefined;
      symbols.push({ name, score, ...(options && options.length > 0 ? { options } : {}) });
    }
  }
  return { action: b.action, score: b.score, ...(typeof b.required_score === "number" ? { requiredScore: b.required_score } : {}), symbols };
}

/** The hits Rspamd's answer becomes: RSPAMD (score × weight) and, when honoured, RSPAMD_REJECT. */
export function rspamdHits(result: RspamdResult, options: Pick<RspamdOptions, "weight" | "honourReject" | "detailSymbols">): RuleHit[] {
  const weight = options.weight ?? 1;
  const top = [...result.symbols]
    .filter((s) => s.score !== 0 || result.symbols.length <= (options.detailSymbols ?? 6))
    .sort((a, b) => Math.abs(b.score) - Math.abs(a.score) || a.name.localeCompare(b.name))
    .slice(0, options.detailSymbols ?? 6)
    .map((s) => `${s.name}(${round(s.score)})`);
  const detail = `${result.action}, ${round(result.score)}${result.requiredScore !== undefined ? `/${round(result.requiredScore)}` : ""}${top.length > 0 ? `: ${top.join(" ")}` : ""}`;
  const hits: RuleHit[] = [{ name: "RSPAMD", score: round(result.score * weight), detail }];
  if (options.honourReject && result.action === "reject") hits.push({ name: "RSPAMD_REJECT", detail: "Rspamd's action is reject" });
  return hits;
}

/**
 * A message-level rule that asks Rspamd and merges its score. It throws when Rspamd fails, so the
 * classifier records a rule error and classifies without it: Rspamd down never blocks mail. The
 * message sent is the content view's bytes (the first POSTLINE_SPAM_MAX_CONTENT_BYTES).
 */
export function rspamdRule(options: RspamdOptions): Rule {
  return {
    name: "rspamd",
    async check(ctx) {
      const result = await checkWithRspamd(
        ctx.content.raw,
        {
          ip: ctx.client.ip || undefined,
          helo: ctx.client.helo || undefined,
          mailFrom: ctx.mailFrom,
          rcptTo: ctx.rcptTo,
          queueId: ctx.queueId,
          user: ctx.source === "submission" ? ctx.client.authUser : undefined,
        },
        options,
      );
      return rspamdHits(result, options);
    },
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
