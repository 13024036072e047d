export interface ReceivedInput {
  helo: string;
  /** Forward-confirmed reverse DNS name, when there is one. */
  clientHostname?: string;
  clientIp: string;
  byHostname: string;
  mailId: string;
  /** TLS protocol and cipher when the session is encrypted. */
  tls?: { protocol: string; cipher: string };
  smtpUtf8: boolean;
  rcptTo: string[];
  date: Date;
}

/**
 * The trace header the receiving MTA prepends (RFC 5321 4.4), as bytes with its CRLF: it is the first
 * line of the stored message, so every offset the mailbox reports includes it.
 *
 *   Received: from mail.example.org (mail.example.org [192.0.2.1])
 *           by mx.example.net (Postline) with ESMTPS id 01J…
 *           (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)
 *           for <user@example.net>; Fri, 28 Nov 2025 09:20:00 +0000
 */
export function receivedHeader(r: ReceivedInput): Buffer {
  const protocol = `${r.smtpUtf8 ? "UTF8SMTP" : "ESMTP"}${r.tls ? "S" : ""}`;
  const ip = r.clientIp.includes(":") ? `IPv6:${r.clientIp}` : r.clientIp;
  const lines = [
    `Received: from ${clean(r.helo) || "unknown"} (${r.clientHostname ? clean(r.clientHostname) : "unknown"} [${ip}])`,
    `by ${clean(r.byHostname)} (Postline) with ${protocol} id ${r.mailId}`,
  ];
  if (r.tls) lines.push(`(using ${clean(r.tls.protocol)} with cipher ${clean(r.tls.cipher)})`);
  const forClause = r.rcptTo.length === 1 ? `for <${r.smtpUtf8 ? r.rcptTo[0] : clean(r.rcptTo[0]!)}>; ` : "";
  lines.push(`${forClause}${rfc5322Date(r.date)}`);
  return Buffer.from(`${lines.join("\r\n\t")}\r\n`, "utf8");
}

// Client-supplied names go into a comment or a token: printable ASCII without comment delimiters.
function clean(value: string): string {
  return value.replace(/[^\x21-\x7e]|[()\\]/g, "?").slice(0, 255);
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** `Fri, 28 Nov 2025 09:20:00 +0000` */
export function rfc5322Date(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
