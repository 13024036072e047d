import { InvalidArgumentError, type Command } from "commander";
import type { AdminApiClient, QueueRecipientView } from "@postline/admin-api/client";
import { cliConfig } from "../config.ts";
import { CliError } from "../errors.ts";
import { emit, table } from "../output.ts";
import { formatSize } from "../sizes.ts";
import { wantsJson } from "./common.ts";

// `postline queue`: the outbound queue (remote recipients) through the admin API. Retrying needs
// the event bus, which only the running platform has, so these commands never open the database.

async function withClient<T>(fn: (client: AdminApiClient) => Promise<T>): Promise<T> {
  const config = cliConfig();
  if (!config.POSTLINE_ADMIN_URL) {
    throw new CliError("postline queue works through the admin API: set POSTLINE_ADMIN_URL and POSTLINE_ADMIN_TOKEN");
  }
  const { AdminApiClient } = await import("@postline/admin-api/client");
  return fn(new AdminApiClient({ baseUrl: config.POSTLINE_ADMIN_URL, token: config.POSTLINE_ADMIN_TOKEN ?? "" }));
}

/** 2026-11-28T14:50:07.123Z → 2026-11-28 14:50:07Z; null → "-". */
export function shortTime(iso: string | null): string {
  return iso === null ? "-" : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

function statusOf(r: QueueRecipientView): string {
  return r.inFlight ? `${r.status} (sending)` : r.status;
}

/** What to show about a recipient's state: the remote reply once delivered, else the last error. */
function detailOf(r: QueueRecipientView): string {
  return (r.status === "delivered" ? r.remoteReply : r.lastError) ?? "";
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError("a whole number from 1 to 1000");
  return n;
}

const recipientWord = (n: number) => (n === 1 ? "recipient" : "recipients");

export function registerQueue(program: Command): void {
  const queue = program
    .command("queue")
    .description("inspect the outbound queue (remote recipients) and act on it: list, summary, show, retry now, delete (needs POSTLINE_ADMIN_URL)");

  queue
    .command("list")
    .description("list remote recipients, newest first (default: the live queue, queued and deferred)")
    .option("--status <statuses>", "comma-separated: queued, deferred, delivered, bounced, deleted, or all", "queued,deferred")
    .option("--domain <domain>", "only recipients in this destination domain")
    .option("--limit <n>", "at most this many (1-1000)", positiveInt, 100)
    .option("--before <cursor>", "the page after a previous listing (the cursor it printed)")
    .action(async (opts: { status: string; domain?: string; limit: number; before?: string }, cmd: Command) => {
      const page = await withClient((c) => c.queueList({ status: opts.status, domain: opts.domain, limit: opts.limit, before: opts.before }));
      emit(wantsJson(cmd), page, () => {
        if (page.queue.length === 0) return "the queue is empty" + (opts.status === "queued,deferred" ? "" : ` (status ${opts.status})`);
        const rows = page.queue.map((r) => [r.mailId, r.recipient, statusOf(r), String(r.attempts), shortTime(r.nextAttemptAt), detailOf(r)]);
        const more = page.next === null ? [] : ["", `more: postline queue list --before ${page.next}`];
        return [table(["MAIL ID", "RECIPIENT", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR / REPLY"], rows), ...more].join("\n");
      });
    });

  queue
    .command("summary")
    .description("recipients by status, and the destination domains where the live queue waits")
    .option("--top <n>", "how many domains (1-1000)", positiveInt, 10)
    .action(async (opts: { top: number }, cmd: Command) => {
      const s = await withClient((c) => c.queueSummary(opts.top));
      emit(wantsJson(cmd), s, () => {
        const c = s.counts;
        const lines = [`queued ${c.queued}  deferred ${c.deferred}  (sending now ${s.inFlight})  delivered ${c.delivered}  bounced ${c.bounced}  deleted ${c.deleted}`];
        if (s.domains.length === 0) return [...lines, "nothing is waiting"].join("\n");
        const rows = s.domains.map((d) => [d.domain, String(d.waiting), String(d.queued), String(d.deferred), String(d.inFlight), shortTime(d.oldestQueuedAt), d.lastError ?? ""]);
        return [...lines, "", table(["DOMAIN", "WAITING", "QUEUED", "DEFERRED", "SENDING", "OLDEST", "LAST ERROR"], rows)].join("\n");
      });
    });

  queue
    .command("show <mailId>")
    .description("one outbound message: its envelope and every remote recipient's status")
    .action(async (mailId: string, _opts, cmd: Command) => {
      const m = await withClient((c) => c.queueShow(mailId));
      emit(wantsJson(cmd), m, () => {
        const env = m.envelope as { smtpUtf8?: boolean; body?: string; dsn?: { ret?: string; envid?: string } };
        const dsn = [env.dsn?.ret ? `RET=${env.dsn.ret}` : "", env.dsn?.envid ? `ENVID=${env.dsn.envid}` : ""].filter(Boolean).join(" ");
        const fields: [string, string][] = [
          ["mail id", m.mailId],
          ["source", m.source],
          ["sender", m.sender === "" ? "<> (null sender)" : m.sender],
          ["size", formatSize(m.size)],
          ["received", shortTime(m.receivedAt)],
          ["expires", shortTime(m.expiresAt)],
          ["body", `${env.body ?? "7BIT"}${env.smtpUtf8 ? ", SMTPUTF8" : ""}`],
          ["dsn", dsn || "-"],
        ];
        const rows = m.recipients.map((r) => [r.recipient, statusOf(r), String(r.attempts), shortTime(r.lastAttemptAt), shortTime(r.nextAttemptAt), r.remoteHost ?? "-", detailOf(r)]);
        return [
          ...fields.map(([k, v]) => `${`${k}:`.padEnd(10)}${v}`),
          "",
          rows.length === 0 ? "no remote recipients" : table(["RECIPIENT", "STATUS", "ATTEMPTS", "LAST ATTEMPT", "NEXT ATTEMPT", "HOST", "LAST ERROR / REPLY"], rows),
        ].join("\n");
      });
    });

  queue
    .command("retry <mailId>")
    .description("retry now: the message's queued and deferred recipients are handed to delivery at once")
    .option("--recipient <address>", "only this recipient")
    .action(async (mailId: string, opts: { recipient?: string }, cmd: Command) => {
      const scheduled = await withClient((c) => c.queueRetry(mailId, opts.recipient));
      emit(wantsJson(cmd), scheduled, () =>
        `retrying ${scheduled.length} ${recipientWord(scheduled.length)} of ${mailId} now: ${scheduled.map((r) => r.recipient).join(", ")}`,
      );
    });

  queue
    .command("delete <mailId>")
    .description("remove the message's queued and deferred recipients from the queue; no bounce is sent")
    .option("--recipient <address>", "only this recipient")
    .action(async (mailId: string, opts: { recipient?: string }, cmd: Command) => {
      const deleted = await withClient((c) => c.queueDelete(mailId, opts.recipient));
      emit(wantsJson(cmd), deleted, () =>
        `deleted ${deleted.length} ${recipientWord(deleted.length)} of ${mailId} from the queue (no DSN): ${deleted.map((r) => r.recipient).join(", ")}`,
      );
    });
}
