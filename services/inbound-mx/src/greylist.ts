import { BlockList, isIPv4, isIPv6 } from "node:net";
import { Counter, type Registry } from "prom-client";
import { ConfigError } from "@postline/config";
import type { Queryable } from "@postline/db";
import { SmtpReply } from "@postline/smtp";
import { clientNetwork, plainAddress, PRIVATE_NETWORKS } from "@postline/ip";
import type { Logger } from "@postline/telemetry";

export interface GreylistOptions {
  /** A retry passes from this many seconds after the first attempt (POSTLINE_GREYLIST_DELAY). */
  delaySeconds: number;
  /** ...and until this many seconds after it; a later retry starts a new round (POSTLINE_GREYLIST_RETRY_WINDOW). */
  retryWindowSeconds: number;
  /** A triplet that passed is let through for this long after its last use (POSTLINE_GREYLIST_REMEMBER). */
  rememberSeconds: number;
  /** A client network with this many passed triplets is not greylisted any more; 0 = never (POSTLINE_GREYLIST_AUTO_ALLOW_AFTER). */
  autoAllowAfter: number;
  /** Client networks never greylisted (CIDR or single addresses). */
  exemptNetworks: string[];
  /** Also exempt loopback, RFC 1918, unique-local and link-local addresses. */
  exemptPrivate: boolean;
  /** A database failure lets the recipient through (true) or answers 451 4.3.0 (false). */
  failOpen: boolean;
  /** A pass is reused in this process for this long without asking the database (0: always ask). */
  cacheMs?: number;
  /** Expired triplets and networks are deleted this often (0: never). */
  pruneIntervalMs?: number;
}

/**
 * How a RCPT fared: `pass` with why (an exempt network, an auto-allowed network, a retry that
 * passed now, a remembered triplet, a cached pass, a database failure under fail-open), or
 * greylisted (`new` triplet, or a retry `early`) with the seconds until a retry passes.
 */
export type GreylistOutcome =
  | { pass: true; result: "exempt" | "auto_allowed" | "passed_retry" | "known" | "cached" | "error_fail_open" }
  | { pass: false; result: "greylisted_new" | "greylisted_early" | "error_fail_closed"; retryAfterSeconds?: number };

export interface GreylistRequest {
  ip: string;
  /** The envelope sender; "" for the null sender. */
  sender: string;
  recipient: string;
}

/** Greylisting outcomes (`postline_inbound_mx_greylist_total{result}`), following metrics.ts. */
export function greylistCounter(registry: Registry): Counter<"result"> {
  const name = "postline_inbound_mx_greylist_total";
  return (
    (registry.getSingleMetric(name) as Counter<"result"> | undefined) ??
    new Counter({
      name,
      help: "Greylisting decisions at RCPT: greylisted_new, greylisted_early, passed_retry, known, cached, auto_allowed, exempt, error_fail_open, error_fail_closed",
      labelNames: ["result"],
      registers: [registry],
    })
  );
}

/** Parses `192.0.2.0/24`, `2001:db8::/32` or a single address into a BlockList. */
export function networkList(entries: string[], withPrivate: boolean): BlockList {
  const list = new BlockList();
  if (withPrivate) for (const [net, prefix, type] of PRIVATE_NETWORKS) list.addSubnet(net, prefix, type);
  for (const entry of entries) {
    const [net, prefix] = entry.split("/") as [string, string | undefined];
    const type = isIPv4(net) ? "ipv4" : isIPv6(net) ? "ipv6" : undefined;
    if (!type) throw new Error(`not a network: ${entry}`);
    const bits = prefix === undefined ? (type === "ipv4" ? 32 : 128) : Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (type === "ipv4" ? 32 : 128)) throw new Error(`bad prefix length: ${entry}`);
    list.addSubnet(net, bits, type);
  }
  return list;
}

/** Throws a ConfigError naming POSTLINE_GREYLIST_EXEMPT_NETWORKS for an entry that is not a network. */
export function checkGreylistNetworks(entries: string[]): void {
  try {
    networkList(entries, false);
  } catch (err) {
    throw new ConfigError("POSTLINE_GREYLIST_EXEMPT_NETWORKS", (err as Error).message);
  }
}

/**
 * One statement per RCPT: reads whether the network is auto-allowed, inserts or updates the triplet
 * (a new round when it expired; passed when the delay is over, or the network is allowed), and
 * counts a first pass for the network (refreshing an allowed network on every use).
 *   $1 network, $2 sender, $3 recipient, $4 delay s, $5 retry window s, $6 remember s, $7 auto-allow after
 */
const DECIDE = `
WITH allowed AS (
  SELECT EXISTS (SELECT 1 FROM greylist_networks WHERE network = $1 AND expires_at > now() AND $7::int > 0 AND passes >= $7::int) AS yes
),
up AS (
  INSERT INTO greylist_triplets AS t (network, sender, recipient, first_seen, last_seen, passed_at, expires_at)
  SELECT $1, $2, $3, now(), now(),
         CASE WHEN allowed.yes THEN now() END,
         now() + CASE WHEN allowed.yes THEN $6::float8 ELSE $5::float8 END * interval '1 second'
    FROM allowed
  ON CONFLICT (network, sender, recipient) DO UPDATE SET
    first_seen = CASE WHEN t.expires_at > now() THEN t.first_seen ELSE now() END,
    passed_at = CASE
      WHEN t.expires_at > now() AND t.passed_at IS NOT NULL THEN t.passed_at
      WHEN t.expires_at > now() AND t.first_seen + $4::float8 * interval '1 second' <= now() THEN now()
      WHEN (SELECT yes FROM allowed) THEN now()
    END,
    expires_at = CASE
      WHEN t.expires_at > now() AND (t.passed_at IS NOT NULL OR t.first_seen + $4::float8 * interval '1 second' <= now()) THEN now() + $6::float8 * interval '1 second'
      WHEN (SELECT yes FROM allowed) THEN now() + $6::float8 * interval '1 second'
      WHEN t.expires_at > now() THEN t.expires_at
      ELSE now() + $5::float8 * interval '1 second'
    END,
    last_seen = now(),
    attempts = CASE WHEN t.expires_at > now() THEN t.attempts + 1 ELSE 1 END
  RETURNING t.first_seen, t.passed_at, t.attempts
),
counted AS (
  INSERT INTO greylist_networks AS n (network, passes, last_pass, expires_at)
  SELECT $1, 1, now(), now() + $6::float8 * interval '1 second' FROM up WHERE up.passed_at = now()
  ON CONFLICT (network) DO UPDATE SET
    passes = CASE WHEN n.expires_at > now() THEN n.passes + 1 ELSE 1 END,
    last_pass = now(),
    expires_at = now() + $6::float8 * interval '1 second'
  RETURNING passes
)
SELECT (SELECT yes FROM allowed) AS allowed,
       up.passed_at IS NOT NULL AS passed,
       up.passed_at = now() AS newly_passed,
       up.attempts,
       ceil(extract(epoch FROM up.first_seen + $4::float8 * interval '1 second' - now()))::int AS wait_seconds,
       (SELECT passes FROM counted) AS network_passes
  FROM up`;

/**
 * Greylisting at RCPT (Postgrey's scheme, shared by every MX replica through PostgreSQL): the first
 * attempt of a (client network, sender, recipient) triplet gets `451 4.7.1`; a retry after the delay
 * and within the retry window passes and the triplet is remembered; a network whose triplets passed
 * `autoAllowAfter` times is not greylisted any more. Passes are cached briefly per process.
 */
export class Greylist {
  private readonly exempt: BlockList;
  private readonly passes = new Map<string, number>();
  private readonly cacheMs: number;
  private readonly pruneTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly db: Queryable,
    private readonly options: GreylistOptions,
    private readonly counter: Counter<"result">,
    private readonly log?: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.exempt = networkList(options.exemptNetworks, options.exemptPrivate);
    this.cacheMs = options.cacheMs ?? 60_000;
  }

  /** Starts deleting expired rows every pruneIntervalMs (first run after a random part of it, so replicas spread out). */
  startPruning(): void {
    const every = this.options.pruneIntervalMs ?? 3600_000;
    if (every <= 0 || this.pruneTimers.length > 0) return;
    const run = () => {
      this.prune().then(
        (n) => {
          if (n > 0) this.log?.info({ deleted: n }, "greylist pruned");
        },
        (err: unknown) => this.log?.warn({ err }, "greylist prune failed"),
      );
    };
    const first = setTimeout(run, Math.floor(Math.random() * every));
    const interval = setInterval(run, every);
    first.unref();
    interval.unref();
    this.pruneTimers.push(first, interval);
  }

  stopPruning(): void {
    for (const timer of this.pruneTimers.splice(0)) clearTimeout(timer);
  }

  /** Deletes triplets and networks past their expiry; returns how many rows went. */
  async prune(): Promise<number> {
    const t = await this.db.query("DELETE FROM greylist_triplets WHERE expires_at < now()");
    const n = await this.db.query("DELETE FROM greylist_networks WHERE expires_at < now()");
    return t.rowCount + n.rowCount;
  }

  /** Decides one RCPT; never throws (a database failure is fail-open or 451 4.3.0 by the options). */
  async check(r: GreylistRequest): Promise<GreylistOutcome> {
    const outcome = await this.decide(r);
    this.counter.inc({ result: outcome.result });
    return outcome;
  }

  private async decide(r: GreylistRequest): Promise<GreylistOutcome> {
    const ip = plainAddress(r.ip);
    const type = isIPv4(ip) ? "ipv4" : isIPv6(ip) ? "ipv6" : undefined;
    if (type && this.exempt.check(ip, type)) return { pass: true, result: "exempt" };
    const network = clientNetwork(ip) ?? ip; // not an address (a UNIX socket in tests): its own key
    const sender = r.sender.toLowerCase();
    const recipient = r.recipient.toLowerCase();
    const key = `${network}\n${sender}\n${recipient}`;
    const t = this.now();
    const cached = this.passes.get(key) ?? this.passes.get(network);
    if (cached !== undefined && cached > t) return { pass: true, result: "cached" };
    let row;
    try {
      const o = this.options;
      const res = await this.db.query<{ allowed: boolean; passed: boolean; newly_passed: boolean; attempts: number; wait_seconds: number }>(DECIDE, [
        network,
        sender,
        recipient,
        o.delaySeconds,
        o.retryWindowSeconds,
        o.rememberSeconds,
        o.autoAllowAfter,
      ]);
      row = res.rows[0];
      if (!row) throw new Error("greylist upsert returned no row");
    } catch (err) {
      this.log?.warn({ err, network }, this.options.failOpen ? "greylist lookup failed; recipient let through" : "greylist lookup failed; 451");
      return this.options.failOpen ? { pass: true, result: "error_fail_open" } : { pass: false, result: "error_fail_closed" };
    }
    if (row.allowed) {
      this.remember(network, t);
      return { pass: true, result: "auto_allowed" };
    }
    if (row.passed) {
      this.remember(key, t);
      return { pass: true, result: row.newly_passed ? "passed_retry" : "known" };
    }
    const retryAfterSeconds = Math.max(1, row.wait_seconds);
    return { pass: false, result: row.attempts > 1 ? "greylisted_early" : "greylisted_new", retryAfterSeconds };
  }

  private remember(key: string, t: number): void {
    if (this.cacheMs <= 0) return;
    this.passes.delete(key);
    this.passes.set(key, t + this.cacheMs);
    if (this.passes.size > 50_000) this.passes.delete(this.passes.keys().next().value!);
  }
}

/** The SMTP reply for a greylisted recipient (or a failed lookup under fail-closed). */
export function greylistReply(recipient: string, outcome: Extract<GreylistOutcome, { pass: false }>): SmtpReply {
  if (outcome.result === "error_fail_closed") return new SmtpReply(451, "4.3.0", "Temporary lookup failure, try again later", "greylist_error");
  const wait = outcome.retryAfterSeconds ?? 60;
  return new SmtpReply(451, "4.7.1", `<${recipient}>: Recipient address rejected: Greylisted, please try again in ${wait} seconds`, "greylisted");
}
