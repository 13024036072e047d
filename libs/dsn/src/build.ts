import { randomBytes } from "node:crypto";

export type DsnAction = "failed" | "delayed" | "delivered" | "relayed";

export interface DsnRecipient {
  /** The address the report is about; written `rfc822; addr` (`utf-8; addr` for a non-ASCII address). */
  finalRecipient: string;
  /** The ORCPT value as given on RCPT TO (`rfc822;a@b`, xtext-encoded); decoded and written as Original-Recipient. */
  originalRecipient?: string;
  action: DsnAction;
  /** Enhanced status code, e.g. "5.1.1". */
  status: string;
  /** Host name of the remote MTA, written `Remote-MTA: dns; host`. */
  remoteMta?: string;
  /** The remote SMTP reply (possibly multi-line), or a local explanation when there was no reply. */
  diagnosticCode?: string;
  lastAttemptDate?: Date;
  /** Only written for action "delayed". */
  willRetryUntil?: Date;
}

export interface DsnInput {
  /** Our host name. */
  reportingMta: string;
  /** Header From address, e.g. `MAILER-DAEMON@mail.example.test`; shown as "Mail Delivery System". */
  from: string;
  /** The original envelope sender. */
  to: string;
  /** Without <>. */
  messageId: string;
  date: Date;
  /** Our queue id: in the text part and as `X-Postline-Queue-Id`. */
  originalMailId: string;
  envid?: string;
  arrivalDate: Date;
  ret: "FULL" | "HDRS";
  original: Buffer;
  /** Default 1 MiB: a larger original is returned as headers only. */
  maxReturnedBytes?: number;
  recipients: DsnRecipient[];
}

export const DEFAULT_MAX_RETURNED_BYTES = 1024 * 1024;
const MAX_DIAGNOSTIC_CHARS = 2000;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

function rfc5322Date(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError("DSN: invalid date");
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** One line of text: CR/LF (and any other control character) become a space, runs of blanks collapse. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/ {2,}/g, " ").trim();
}

/** An address or id for a header or a report field: no controls, no blanks, no angle brackets. */
function cleanToken(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x20\x7f<>]+/g, "");
}

const nonAscii = (s: string) => /[\u0080-\uffff]/.test(s);
const toAscii = (s: string) => s.replace(/[\u0080-\uffff]/g, "?");

function has8bit(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return true;
  return false;
}

/** Folds `Name: value` at blanks so that lines stay within 78 characters where the words allow (hard cut at 990). */
function fold(line: string): string {
  if (line.length <= 78) return line;
  const words = line.split(" ");
  const out: string[] = [];
  let cur = "";
  for (let word of words) {
    while (word.length > 990) {
      if (cur) out.push(cur);
      out.push(word.slice(0, 990));
      word = word.slice(990);
      cur = "";
    }
    if (!cur) cur = word;
    else if (cur.length + 1 + word.length <= 78) cur += " " + word;
    else {
      out.push(cur);
      cur = word;
    }
  }
  if (cur) out.push(cur);
  return out.join("\r\n ");
}

/** Wraps plain text for the human-readable part, indenting continuation lines. */
function wrap(text: string, indent: string): string[] {
  const lines: string[] = [];
  let cur = "";
  for (const word of text.split(" ")) {
    if (cur && (indent + cur + " " + word).length > 76) {
      lines.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}

/** RFC 3461 §4: xtext `+XX` → the byte. */
function decodeXtext(s: string): string {
  return s.replace(/\+([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A (multi-line) SMTP reply as one line: "550-5.1.1 a\n550 5.1.1 b" → "550 5.1.1 a b". */
function replyText(reply: string): string {
  const lines = reply.split(/\r?\n|\r/).map((l) => l.trim()).filter(Boolean);
  const parts = lines.map((l, i) => {
    const m = /^(\d{3})[ -](?:(\d\.\d{1,3}\.\d{1,3}) )?(.*)$/.exec(l);
    if (!m) return l;
    if (i === 0) return [m[1], m[2], m[3]].filter(Boolean).join(" ");
    return m[3] ?? "";
  });
  const text = clean(parts.join(" "));
  return text.length > MAX_DIAGNOSTIC_CHARS ? text.slice(0, MAX_DIAGNOSTIC_CHARS) + "..." : text;
}

function diagnosticField(reply: string): string {
  const text = replyText(reply).replace(/^smtp;\s*/i, "");
  return /^\d{3}( |$)/.test(text) ? `smtp; ${text}` : `X-Postline; ${text}`;
}

function addressField(addr: string): string {
  const a = cleanToken(addr);
  return `${nonAscii(a) ? "utf-8" : "rfc822"}; ${a}`;
}

function originalRecipientField(orcpt: string): string {
  const v = clean(decodeXtext(orcpt));
  const semi = v.indexOf(";");
  if (semi === -1) return `rfc822;${cleanToken(v)}`;
  return `${cleanToken(v.slice(0, semi))};${cleanToken(v.slice(semi + 1))}`;
}

/** The header section of a message (up to and including the line end before the blank line). */
function headerSection(msg: Buffer): Buffer {
  if (msg[0] === 0x0a || (msg[0] === 0x0d && msg[1] === 0x0a)) return Buffer.alloc(0);
  const crlf = msg.indexOf("\r\n\r\n");
  const lf = msg.indexOf("\n\n");
  const ends = [crlf === -1 ? -1 : crlf + 2, lf === -1 ? -1 : lf + 1].filter((e) => e >= 0);
  return ends.length ? msg.subarray(0, Math.min(...ends)) : msg;
}

/** Bare LF / bare CR → CRLF, byte for byte otherwise; ends with a line end. */
function crlfLines(b: Buffer): Buffer {
  let s = b.toString("latin1").replace(/\r\n|\r|\n/g, "\r\n");
  if (s.length && !s.endsWith("\r\n")) s += "\r\n";
  return Buffer.from(s, "latin1");
}

/** Cuts a header section to at most `max` bytes at a line boundary that does not split a folded field. */
function capHeaders(h: Buffer, max: number): { headers: Buffer; cut: boolean } {
  if (h.length <= max) return { headers: h, cut: false };
  let end = h.lastIndexOf("\r\n", max - 2);
  while (end > 0 && (h[end + 2] === 0x20 || h[end + 2] === 0x09)) end = h.lastIndexOf("\r\n", end - 1);
  return { headers: h.subarray(0, end > 0 ? end + 2 : 0), cut: true };
}

const SUBJECTS = {
  failed: "Undelivered Mail Returned to Sender",
  delayed: "Delayed Mail (still being retried)",
  success: "Successful Mail Delivery Report",
};

const INTROS = {
  failed:
    "I'm sorry to have to inform you that your message could not be delivered to one or more recipients. " +
    "The details are below.",
  delayed:
    "Your message could not be delivered yet to one or more recipients. The mail system will keep trying; " +
    "you do not need to send it again. You will be told if delivery finally fails.",
  success: "Your message was successfully delivered to the destination(s) listed below.",
};

const ACTION_TEXT: Record<DsnAction, string> = {
  failed: "delivery failed permanently",
  delayed: "delivery delayed, still trying",
  delivered: "delivered to the recipient's mailbox",
  relayed: "relayed to a system that does not send further delivery notifications",
};

/** Builds a delivery status notification (RFC 3464 multipart/report), CRLF line ends throughout. */
export function buildDsn(input: DsnInput): Buffer {
  if (input.recipients.length === 0) throw new Error("DSN: no recipients");
  const to = cleanToken(input.to);
  if (!to) throw new Error("DSN: no envelope sender to report to (never bounce to the null sender)");

  const actions = new Set(input.recipients.map((r) => r.action));
  const kind = actions.has("failed") ? "failed" : actions.has("delayed") ? "delayed" : "success";
  const utf8Addresses = input.recipients.some((r) => nonAscii(r.finalRecipient) || nonAscii(r.originalRecipient ?? ""));

  // Part 3: what of the original goes back.
  const max = input.maxReturnedBytes ?? DEFAULT_MAX_RETURNED_BYTES;
  const tooLarge = input.ret === "FULL" && input.original.length > max;
  const full = input.ret === "FULL" && !tooLarge;
  let returned: Buffer;
  let headersCut = false;
  if (full) returned = crlfLines(input.original);
  else {
    const capped = capHeaders(crlfLines(headerSection(input.original)), max);
    returned = capped.headers;
    headersCut = capped.cut;
  }

  // Part 1: human-readable text.
  const text: string[] = [`This is the mail system at host ${clean(input.reportingMta)}.`, "", ...wrap(INTROS[kind], ""), ""];
  text.push(`Queue ID: ${clean(input.originalMailId)}`, `Arrival date: ${rfc5322Date(input.arrivalDate)}`, "");
  for (const r of input.recipients) {
    text.push(`<${cleanToken(r.finalRecipient)}>: ${ACTION_TEXT[r.action]} (status ${clean(r.status)})`);
    if (r.remoteMta) text.push(`    Remote server: ${clean(r.remoteMta)}`);
    if (r.diagnosticCode) text.push(...wrap(`The server said: ${replyText(r.diagnosticCode)}`, "    "));
    if (r.action === "delayed" && r.willRetryUntil) text.push(`    Will retry until: ${rfc5322Date(r.willRetryUntil)}`);
    text.push("");
  }
  if (input.ret === "HDRS") text.push("As the sender asked (RET=HDRS), only the headers of the original message are attached.");
  else if (tooLarge)
    text.push(
      `The original message (${input.original.length} bytes) is larger than ${max} bytes; only its headers are attached.`,
    );
  else text.push("The original message is attached.");
  if (headersCut) text.push(`Its header section was cut to ${max} bytes.`);
  const textBody = text.join("\r\n") + "\r\n";
  const textAscii = !nonAscii(textBody);
  const textPart = textAscii
    ? textBody
    : (Buffer.from(textBody, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\r\n") + "\r\n";

  // Part 2: machine-readable status. Plain message/delivery-status is 7-bit ASCII; a report naming a UTF-8
  // address is message/global-delivery-status (RFC 6533), which allows UTF-8.
  const field = (s: string) => fold(utf8Addresses ? s : toAscii(s));
  const status: string[] = [field(`Reporting-MTA: dns; ${cleanToken(input.reportingMta)}`)];
  status.push(field(`X-Postline-Queue-Id: ${cleanToken(input.originalMailId)}`));
  if (input.envid) status.push(field(`Original-Envelope-Id: ${clean(decodeXtext(input.envid))}`));
  status.push(`Arrival-Date: ${rfc5322Date(input.arrivalDate)}`);
  for (const r of input.recipients) {
    status.push("");
    if (r.originalRecipient) status.push(field(`Original-Recipient: ${originalRecipientField(r.originalRecipient)}`));
    status.push(field(`Final-Recipient: ${addressField(r.finalRecipient)}`));
    status.push(`Action: ${r.action}`);
    status.push(field(`Status: ${cleanToken(r.status)}`));
    if (r.remoteMta) status.push(field(`Remote-MTA: dns; ${cleanToken(r.remoteMta)}`));
    if (r.diagnosticCode) status.push(field(`Diagnostic-Code: ${diagnosticField(r.diagnosticCode)}`));
    if (r.lastAttemptDate) status.push(`Last-Attempt-Date: ${rfc5322Date(r.lastAttemptDate)}`);
    if (r.action === "delayed" && r.willRetryUntil) status.push(`Will-Retry-Until: ${rfc5322Date(r.willRetryUntil)}`);
  }
  const statusBody = status.join("\r\n") + "\r\n";
  const statusType = utf8Addresses ? "message/global-delivery-status" : "message/delivery-status";

  // A boundary that occurs in none of the parts.
  const everything = Buffer.concat([Buffer.from(textPart + statusBody, "utf8"), returned]);
  let boundary: string;
  do boundary = `=_postline_dsn_${randomBytes(12).toString("hex")}`;
  while (everything.includes(boundary));

  const from = cleanToken(input.from);
  const headers = [
    `From: Mail Delivery System <${from}>`,
    `To: <${to}>`,
    `Subject: ${SUBJECTS[kind]}`,
    `Date: ${rfc5322Date(input.date)}`,
    fold(`Message-ID: <${cleanToken(input.messageId)}>`),
    "MIME-Version: 1.0",
    "Auto-Submitted: auto-replied",
    fold(`X-Postline-Queue-Id: ${cleanToken(input.originalMailId)}`),
    `Content-Type: multipart/report; report-type=delivery-status;\r\n boundary="${boundary}"`,
  ];

  const returnedType = full ? "message/rfc822" : "text/rfc822-headers";
  const returnedHeaders = [
    `Content-Type: ${returnedType}${full ? "" : "; charset=utf-8"}`,
    `Content-Description: ${full ? "Undelivered Message" : "Undelivered Message Headers"}`,
  ];
  if (has8bit(returned)) returnedHeaders.push("Content-Transfer-Encoding: 8bit");

  const head =
    headers.join("\r\n") +
    "\r\n\r\nThis is a MIME-encapsulated message (a delivery status notification).\r\n\r\n" +
    `--${boundary}\r\n` +
    "Content-Type: text/plain; charset=utf-8\r\n" +
    "Content-Description: Notification\r\n" +
    `Content-Transfer-Encoding: ${textAscii ? "7bit" : "base64"}\r\n\r\n` +
    textPart +
    `\r\n--${boundary}\r\n` +
    `Content-Type: ${statusType}\r\n` +
    "Content-Description: Delivery report\r\n" +
    (utf8Addresses && nonAscii(statusBody) ? "Content-Transfer-Encoding: 8bit\r\n" : "") +
    "\r\n" +
    statusBody +
    `\r\n--${boundary}\r\n` +
    returnedHeaders.join("\r\n") +
    "\r\n\r\n";
  return Buffer.concat([Buffer.from(head, "utf8"), returned, Buffer.from(`\r\n--${boundary}--\r\n`, "latin1")]);
}
