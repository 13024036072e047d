import { domainToUnicode } from "node:url";
import type { Account, Alias, Domain } from "@postline/directory";
import type { OutboundMessage, OutboundRecipient, OutboundSummary } from "@postline/mailstore";

/** What the admin API returns (and the CLI prints): plain JSON, never a password hash. */
export interface DomainView {
  name: string;
  /** The name in Unicode (differs from `name` for IDNs). */
  unicodeName: string;
  catchAll: string | null;
  createdAt: string;
}

export interface AccountView {
  address: string;
  domain: string;
  /** null: unlimited. */
  quotaBytes: number | null;
  usedBytes: number;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface AliasView {
  source: string;
  destination: string;
  domain: string;
  createdAt: string;
}

export function domainView(d: Domain): DomainView {
  return { name: d.name, unicodeName: domainToUnicode(d.name) || d.name, catchAll: d.catchAll, createdAt: d.createdAt.toISOString() };
}

export function accountView(a: Account): AccountView {
  return {
    address: a.address,
    domain: a.domain,
    quotaBytes: a.quotaBytes,
    usedBytes: a.usedBytes,
    disabled: a.disabled,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

export function aliasView(a: Alias): AliasView {
  return { source: a.source, destination: a.destination, domain: a.domain, createdAt: a.createdAt.toISOString() };
}

/** One remote recipient in the outbound queue. */
export interface QueueRecipientView {
  mailId: string;
  recipient: string;
  sender: string;
  domain: string;
  status: "queued" | "deferred" | "delivered" | "bounced" | "deleted";
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string | null;
  remoteHost: string | null;
  remoteReply: string | null;
  lastAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** An SMTP transaction for it is under way. */
  inFlight: boolean;
  /** Times it may have been sent again after a delivery process died mid-transaction. */
  resends: number;
}

export interface QueueMessageView {
  mailId: string;
  source: "inbound" | "submission" | "dsn";
  sender: string;
  size: number;
  receivedAt: string;
  expiresAt: string;
  queuedAt: string;
  /** The envelope parameters passed on: smtpUtf8, body, dsn {ret, envid, rcpt: {address: {notify, orcpt}}}. */
  envelope: Record<string, unknown>;
  recipients: QueueRecipientView[];
}

export interface QueueSummaryView {
  counts: Record<QueueRecipientView["status"], number>;
  inFlight: number;
  domains: { domain: string; waiting: number; queued: number; deferred: number; inFlight: number; oldestQueuedAt: string; lastError: string | null }[];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export function queueRecipientView(r: OutboundRecipient): QueueRecipientView {
  return {
    mailId: r.mailId,
    recipient: r.recipient,
    sender: r.sender,
    domain: r.domain,
    status: r.status,
    attempts: r.attempts,
    lastError: r.lastError,
    nextAttemptAt: iso(r.nextAttemptAt),
    remoteHost: r.remoteHost,
    remoteReply: r.remoteReply,
    lastAttemptAt: iso(r.lastAttemptAt),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    inFlight: r.inFlight,
    resends: r.resends,
  };
}

export function queueMessageView(m: OutboundMessage): QueueMessageView {
  return {
    mailId: m.mailId,
    source: m.source,
    sender: m.sender,
    size: m.size,
    receivedAt: m.receivedAt.toISOString(),
    expiresAt: m.expiresAt.toISOString(),
    queuedAt: m.createdAt.toISOString(),
    envelope: m.envelope,
    recipients: m.recipients.map(queueRecipientView),
  };
}

export function queueSummaryView(s: OutboundSummary): QueueSummaryView {
  return {
    counts: s.counts,
    inFlight: s.inFlight,
    domains: s.domains.map((d) => ({
      domain: d.domain,
      waiting: d.waiting,
      queued: d.queued,
      deferred: d.deferred,
      inFlight: d.inFlight,
      oldestQueuedAt: d.oldestCreatedAt.toISOString(),
      lastError: d.lastError,
    })),
  };
}
