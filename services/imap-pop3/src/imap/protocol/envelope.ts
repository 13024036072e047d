import type { Envelope, ImapAddress } from "@postline/mime";
import { nstring } from "./encode.ts";

function address(a: ImapAddress): string {
  return `(${nstring(a.name)} ${nstring(a.adl)} ${nstring(a.mailbox)} ${nstring(a.host)})`;
}

/** env-from etc.: NIL or "(" 1*address ")"; group start/end markers are addresses too (RFC 9051 7.5.2). */
export function addressList(list: ImapAddress[] | null): string {
  if (list === null || list.length === 0) return "NIL";
  return `(${list.map(address).join("")})`;
}

/** ENVELOPE: "(" date subject from sender reply-to to cc bcc in-reply-to message-id ")". */
export function envelopeText(e: Envelope): string {
  return (
    `(${nstring(e.date)} ${nstring(e.subject)} ${addressList(e.from)} ${addressList(e.sender)} ` +
    `${addressList(e.replyTo)} ${addressList(e.to)} ${addressList(e.cc)} ${addressList(e.bcc)} ` +
    `${nstring(e.inReplyTo)} ${nstring(e.messageId)})`
  );
}
