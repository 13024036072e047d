/** An IMAP address structure (RFC 3501 7.4.2). A group start has host null and the group name in mailbox; a group end is all null. */
export interface ImapAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

/** IMAP ENVELOPE: raw (un-decoded, unfolded) header strings; null when the header is absent. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: ImapAddress[] | null;
  /** Defaults to from when absent or empty (RFC 3501). */
  sender: ImapAddress[] | null;
  /** Defaults to from when absent or empty (RFC 3501). */
  replyTo: ImapAddress[] | null;
  to: ImapAddress[] | null;
  cc: ImapAddress[] | null;
  bcc: ImapAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface Disposition {
  /** Lower-cased, e.g. "attachment", "inline". */
  type: string;
  params: Record<string, string>;
}

/**
 * One MIME entity. Byte offsets are positions in the stored message (the blob): the entity's header is
 * [headerStart, bodyStart) including its terminating blank line, its body [bodyStart, bodyEnd). For a part inside
 * a multipart, the line break before the next boundary belongs to the boundary (RFC 2046 5.1.1), not to the body.
 */
export interface MimePart {
  /**
   * IMAP section number. The top-level single-part body is "1"; a top-level multipart is "" (the whole message);
   * a multipart inside a message/rfc822 part "2" is "2", a single part there is "2.1" (RFC 3501 6.4.5).
   */
  partId: string;
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  /** Lower-cased. */
  type: string;
  /** Lower-cased. */
  subtype: string;
  /** Content-Type parameters: names lower-cased, values raw (RFC 2231 segments kept as separate attributes). */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding upper-cased, "7BIT" when absent. */
  encoding: string;
  /** Body octets: bodyEnd - bodyStart. */
  size: number;
  /** Body lines (IMAP needs them for text/* and message/rfc822; counted for every part). */
  lines: number;
  md5: string | null;
  disposition: Disposition | null;
  language: string[] | null;
  location: string | null;
  /** Decoded file name (Content-Disposition filename, else Content-Type name), for display and search; not IMAP. */
  filename: string | null;
  /** Set when the header block was longer than the parser keeps: fields past the limit were not read. */
  headerTruncated?: true;
  /** Multipart children; never empty (an empty multipart gets one zero-length text/plain child, as Dovecot does). */
  children?: MimePart[];
  /**
   * message/rfc822 and message/global: the encapsulated message's envelope and root entity. Absent when the part
   * could not be parsed as a message (a transfer encoding other than 7bit/8bit/binary, or nesting too deep); an
   * IMAP server should then describe it as a basic body part.
   */
  envelope?: Envelope;
  body?: MimePart;
}

/** Header fields SEARCH and SORT use, decoded to UTF-8 (RFC 2047 words and charsets). */
export interface SearchFields {
  subject: string | null;
  /** Address lists as display text: `Name <addr>, addr, Group: Name <addr>;`. */
  from: string | null;
  to: string | null;
  cc: string | null;
  bcc: string | null;
  /** The Date header as an ISO 8601 instant; null when absent or unparseable. */
  date: string | null;
  messageId: string | null;
}

/** Everything delivery caches about a message; JSON-serialisable. */
export interface MessageStructure {
  /** Total octets of the message. */
  size: number;
  envelope: Envelope;
  /** The root entity: headerStart 0, bodyEnd = size. */
  body: MimePart;
  search: SearchFields;
}
