import { decodeWords } from "./content-header.ts";
import { parseAddressList, type AddressCache } from "./envelope.ts";
import { parseMailDate } from "./mail-date.ts";
import type { SearchFields } from "./types.ts";

/** Decoded search fields from a header map (lower-cased names, unfolded raw values). */
export function searchFieldsOf(headers: ReadonlyMap<string, string>, parsed?: AddressCache): SearchFields {
  const subject = headers.get("subject");
  const messageId = headers.get("message-id");
  return {
    subject: subject === undefined ? null : decodeWords(subject),
    from: addressText(headers.get("from"), parsed),
    to: addressText(headers.get("to"), parsed),
    cc: addressText(headers.get("cc"), parsed),
    bcc: addressText(headers.get("bcc"), parsed),
    date: parseMailDate(headers.get("date"))?.toISOString() ?? null,
    messageId: messageId === undefined ? null : messageId,
  };
}

/** An address header as display text, names decoded: `Name <addr>, addr, Group: a <b>;`. */
export function addressText(value: string | undefined, parsed?: AddressCache): string | null {
  if (value === undefined) return null;
  const parts: string[] = [];
  for (const a of parseAddressList(value, parsed)) {
    if (a.group) {
      parts.push(`${decodeWords(a.name)}: ${a.group.map((m) => mailboxText(m.name, m.address ?? "")).join(", ")};`);
    } else {
      parts.push(mailboxText(a.name, a.address));
    }
  }
  // Nothing recognisable as an address: keep the decoded text so SEARCH can still find it.
  return parts.length > 0 ? parts.join(", ") : decodeWords(value);
}

function mailboxText(name: string, address: string): string {
  const decoded = decodeWords(name);
  if (!address) return decoded;
  return decoded ? `${decoded} <${address}>` : address;
}
