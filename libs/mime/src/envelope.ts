import addressparser, { type Address } from "nodemailer/lib/addressparser";
import type { Envelope, ImapAddress } from "./types.ts";

export const ENVELOPE_FIELDS: ReadonlySet<string> = new Set([
  "date",
  "subject",
  "from",
  "sender",
  "reply-to",
  "to",
  "cc",
  "bcc",
  "in-reply-to",
  "message-id",
]);

// Dovecot's placeholders for an address without a local part or domain: host NIL is reserved for group markers.
const MISSING_MAILBOX = "MISSING_MAILBOX";
const MISSING_DOMAIN = "MISSING_DOMAIN";

/** IMAP ENVELOPE (RFC 3501 7.4.2, RFC 9051 7.5.2) from a header map (lower-cased names, unfolded raw values). */
export function envelopeOf(headers: ReadonlyMap<string, string>, parsed?: AddressCache): Envelope {
  const from = imapAddresses(headers.get("from"), parsed);
  return {
    date: headers.get("date") ?? null,
    subject: headers.get("subject") ?? null,
    from,
    sender: imapAddresses(headers.get("sender"), parsed) ?? from,
    replyTo: imapAddresses(headers.get("reply-to"), parsed) ?? from,
    to: imapAddresses(headers.get("to"), parsed),
    cc: imapAddresses(headers.get("cc"), parsed),
    bcc: imapAddresses(headers.get("bcc"), parsed),
    inReplyTo: headers.get("in-reply-to") ?? null,
    messageId: headers.get("message-id") ?? null,
  };
}

/** Parsed address lists by header value, so the envelope and the search fields parse each list once. */
export type AddressCache = Map<string, Address[]>;

export function parseAddressList(value: string, cache?: AddressCache): Address[] {
  const known = cache?.get(value);
  if (known) return known;
  let list: Address[];
  try {
    list = addressparser(value);
  } catch {
    list = [];
  }
  cache?.set(value, list);
  return list;
}

/**
 * An address header as IMAP address structures, groups as RFC 3501 wants them: a start marker (mailbox = group
 * name, host NIL), the members, then an end marker (mailbox and host NIL). Null when absent or empty.
 */
export function imapAddresses(value: string | undefined, cache?: AddressCache): ImapAddress[] | null {
  if (value === undefined || value.trim() === "") return null;
  const out: ImapAddress[] = [];
  for (const a of parseAddressList(value, cache)) {
    if (a.group) {
      out.push({ name: null, adl: null, mailbox: a.name || "", host: null });
      for (const member of flatten(a.group)) out.push(mailboxOf(member.name, member.address));
      out.push({ name: null, adl: null, mailbox: null, host: null });
    } else {
      out.push(mailboxOf(a.name, a.address));
    }
  }
  return out.length > 0 ? out : null;
}

function flatten(list: Address[]): { name: string; address: string }[] {
  const out: { name: string; address: string }[] = [];
  for (const a of list) {
    if (a.group) out.push(...flatten(a.group));
    else out.push({ name: a.name, address: a.address });
  }
  return out;
}

function mailboxOf(name: string, address: string): ImapAddress {
  if (!address) {
    // A bare word ("root") is a local part without a domain; anything else is only a name.
    if (name && !/\s/.test(name)) return { name: null, adl: null, mailbox: name, host: MISSING_DOMAIN };
    return { name: name || null, adl: null, mailbox: MISSING_MAILBOX, host: MISSING_DOMAIN };
  }
  const at = address.lastIndexOf("@");
  const mailbox = at === -1 ? address : address.slice(0, at);
  const host = at === -1 ? MISSING_DOMAIN : address.slice(at + 1);
  return { name: name || null, adl: null, mailbox: mailbox || MISSING_MAILBOX, host: host || MISSING_DOMAIN };
}
