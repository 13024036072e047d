import { fieldValue, headerFieldsOf, imapAddresses } from "@postline/mime";

const CRLF = Buffer.from("\r\n");

export interface SplitMessage {
  /** The header block without the blank line that ends it. */
  header: Buffer;
  /** The blank line and everything after it (empty when the message has no body). */
  rest: Buffer;
}

/** Splits at the first empty line (CRLF or bare LF). */
export function splitMessage(message: Buffer): SplitMessage {
  let pos = 0;
  while (pos < message.length) {
    const lf = message.indexOf(10, pos);
    if (lf === -1) break;
    const lineEmpty = lf === pos || (lf === pos + 1 && message[pos] === 13);
    if (lineEmpty) return { header: message.subarray(0, pos), rest: message.subarray(pos) };
    pos = lf + 1;
  }
  // No empty line: everything is header (a header block with a final line ending, or without one).
  return { header: message, rest: Buffer.alloc(0) };
}

/** The addresses (local@domain) of every From field; null when the message has no From field. */
export function fromAddresses(header: Buffer): string[] | null {
  const fields = headerFieldsOf(header).filter((f) => f.key === "from");
  if (fields.length === 0) return null;
  const out: string[] = [];
  for (const f of fields) {
    for (const a of imapAddresses(fieldValue(header, f)) ?? []) {
      if (a.mailbox === null || a.host === null) continue; // group start/end markers
      out.push(`${a.mailbox}@${a.host}`);
    }
  }
  return out;
}

export interface RewriteOptions {
  /** The Message-ID to add when the message has none (without angle brackets). */
  messageId: string;
  date: Date;
}

/**
 * The message as it is sent on: every Bcc field dropped (RFC 5322 3.6.3: the submission server
 * must not pass blind recipients on), Message-ID and Date added at the end of the header when
 * missing (RFC 6409 8.2, 8.3). All other bytes stay as the client sent them.
 */
export function rewriteMessage(message: Buffer, options: RewriteOptions): { message: Buffer; addedMessageId: boolean; addedDate: boolean; droppedBcc: number } {
  const { header, rest } = splitMessage(message);
  const fields = headerFieldsOf(header);
  const parts: Buffer[] = [];
  let pos = 0;
  let droppedBcc = 0;
  for (const f of fields) {
    if (f.key !== "bcc") continue;
    parts.push(header.subarray(pos, f.start));
    pos = f.end;
    droppedBcc++;
  }
  parts.push(header.subarray(pos));
  let body = Buffer.concat(parts);
  // The added fields go after the last line, which may lack its line ending when there is no body.
  if (body.length > 0 && body[body.length - 1] !== 10) body = Buffer.concat([body, CRLF]);
  const has = (key: string) => fields.some((f) => f.key === key);
  const extra: string[] = [];
  const addedMessageId = !has("message-id");
  const addedDate = !has("date");
  if (addedMessageId) extra.push(`Message-ID: <${options.messageId}>\r\n`);
  if (addedDate) extra.push(`Date: ${rfc5322Date(options.date)}\r\n`);
  const tail = rest.length > 0 ? rest : CRLF;
  return { message: Buffer.concat([body, Buffer.from(extra.join(""), "latin1"), tail]), addedMessageId, addedDate, droppedBcc };
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** RFC 5322 date-time in UTC, e.g. "Sat, 28 Nov 2026 13:20:00 +0000". */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
