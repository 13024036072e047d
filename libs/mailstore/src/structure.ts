/**
 * What the mailstore caches about a message: the shape of libs/mime's `MessageStructure` (its
 * `parseMessage` result is passed as it is), typed loosely here so the store does not depend on
 * the parser. `envelope` is the IMAP ENVELOPE and `body` the root MIME entity (BODYSTRUCTURE, with
 * byte offsets into the stored blob), both kept as JSON.
 */
export interface CachedStructure {
  envelope: unknown;
  body: unknown;
  search: SearchFields;
}

/** Header fields SEARCH and SORT need, decoded to UTF-8. */
export interface SearchFields {
  subject?: string | null;
  from?: string | null;
  to?: string | null;
  cc?: string | null;
  bcc?: string | null;
  /** The Date header as an ISO 8601 instant (or a Date), when it parsed. */
  date?: string | Date | null;
  messageId?: string | null;
}
