/**
 * Typed IMAP requests: what the parsers (./parse/) produce and the server's ops (../server/op/)
 * execute. Names follow RFC 9051 / RFC 3501 and the extensions we advertise.
 */

/** One end of a sequence-set range: a number, or `*` (the largest number in use). */
export type SeqNumber = number | "*";

/**
 * A sequence set (`1:4,7,9:*`), of message sequence numbers or of UIDs depending on the command,
 * or `$`: the result saved by the last SEARCH RETURN (SAVE) (RFC 5182 SEARCHRES).
 */
export type SequenceSet = { kind: "set"; ranges: Array<{ from: SeqNumber; to: SeqNumber }> } | { kind: "saved" };

/** A body section (RFC 9051 6.4.5): part numbers, then an optional text specifier. */
export interface Section {
  /** `[]` for the whole message; `[1, 2]` for `1.2`. */
  part: number[];
  text?: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME";
  /** Field names, upper-cased, for HEADER.FIELDS (.NOT). */
  fields?: string[];
}

/** `<offset.length>` of a partial fetch. */
export interface Partial {
  offset: number;
  length: number;
}

export type FetchAttribute =
  | { kind: "FLAGS" }
  | { kind: "INTERNALDATE" }
  | { kind: "RFC822.SIZE" }
  | { kind: "ENVELOPE" }
  | { kind: "BODYSTRUCTURE" }
  /** `BODY` without a section: the non-extensible body structure. */
  | { kind: "BODY" }
  | { kind: "UID" }
  | { kind: "MODSEQ" }
  | { kind: "RFC822" }
  | { kind: "RFC822.HEADER" }
  | { kind: "RFC822.TEXT" }
  | { kind: "BODY[]"; section: Section; peek: boolean; partial?: Partial }
  /** RFC 3516: the section's content with its transfer encoding removed. */
  | { kind: "BINARY"; part: number[]; peek: boolean; partial?: Partial }
  | { kind: "BINARY.SIZE"; part: number[] };

/** SEARCH keys (RFC 9051 6.4.4, RFC 7162 MODSEQ). Parsers upper-case flag names that are system flags. */
export type SearchKey =
  | { kind: "all" }
  | { kind: "and"; keys: SearchKey[] }
  | { kind: "or"; left: SearchKey; right: SearchKey }
  | { kind: "not"; key: SearchKey }
  /** ANSWERED/DELETED/DRAFT/FLAGGED/SEEN (flag `\Seen`…), KEYWORD x; `set: false` for UN… */
  | { kind: "flag"; flag: string; set: boolean }
  /** rev1: RECENT, NEW (RECENT UNSEEN) and OLD (NOT RECENT). */
  | { kind: "recent"; set: boolean }
  | { kind: "new" }
  /** FROM, TO, CC, BCC, SUBJECT and HEADER name value; name upper-cased. An empty value matches any message with the field. */
  | { kind: "header"; field: string; value: string }
  | { kind: "body"; value: string }
  | { kind: "text"; value: string }
  /** BEFORE/ON/SINCE (internal date) and SENTBEFORE/SENTON/SENTSINCE (Date header); date as YYYY-MM-DD. */
  | { kind: "date"; of: "internal" | "sent"; op: "before" | "on" | "since"; date: string }
  | { kind: "size"; op: "larger" | "smaller"; octets: number }
  | { kind: "seq"; set: SequenceSet }
  | { kind: "uid"; set: SequenceSet }
  | { kind: "modseq"; modseq: number };

/** Items of STATUS and LIST RETURN (STATUS ...). */
export type StatusItem = "MESSAGES" | "UIDNEXT" | "UIDVALIDITY" | "UNSEEN" | "DELETED" | "SIZE" | "HIGHESTMODSEQ" | "RECENT" | "APPENDLIMIT";

/** ESEARCH return options (RFC 4731, RFC 5182 SAVE). */
export type SearchReturn = "MIN" | "MAX" | "ALL" | "COUNT" | "SAVE";

export interface AppendMessage {
  flags: string[];
  date?: Date;
  /** The message octets (bounded by APPENDLIMIT). */
  content: Buffer;
}

export type Command =
  | { name: "CAPABILITY" }
  | { name: "NOOP" }
  | { name: "LOGOUT" }
  | { name: "STARTTLS" }
  | { name: "LOGIN"; user: string; password: string }
  /** SASL-IR: `initialResponse` is the base64 text after the mechanism ("=" for empty), absent when none was given. */
  | { name: "AUTHENTICATE"; mechanism: string; initialResponse?: string }
  | { name: "ENABLE"; capabilities: string[] }
  /** `null` for `ID NIL`. */
  | { name: "ID"; params: Record<string, string | null> | null }
  | { name: "NAMESPACE" }
  | {
      name: "SELECT" | "EXAMINE";
      mailbox: string;
      condstore: boolean;
      /** RFC 7162 QRESYNC parameters. */
      qresync?: { uidValidity: number; modseq: number; knownUids?: SequenceSet; seqMatch?: { seqs: SequenceSet; uids: SequenceSet } };
    }
  | { name: "CREATE"; mailbox: string; specialUse?: string[] }
  | { name: "DELETE"; mailbox: string }
  | { name: "RENAME"; from: string; to: string }
  | { name: "SUBSCRIBE"; mailbox: string }
  | { name: "UNSUBSCRIBE"; mailbox: string }
  | {
      name: "LIST";
      reference: string;
      patterns: string[];
      /** LIST-EXTENDED selection options, upper-cased: SUBSCRIBED, REMOTE, RECURSIVEMATCH, SPECIAL-USE. */
      selection: string[];
      /** LIST-EXTENDED return options: SUBSCRIBED, CHILDREN, SPECIAL-USE, and LIST-STATUS items. */
      returns: { subscribed: boolean; children: boolean; specialUse: boolean; status?: StatusItem[] };
    }
  | { name: "LSUB"; reference: string; pattern: string }
  | { name: "STATUS"; mailbox: string; items: StatusItem[] }
  /** MULTIAPPEND is not advertised: always one message, but kept as a list for the parser's simplicity. */
  | { name: "APPEND"; mailbox: string; messages: AppendMessage[] }
  | { name: "CHECK" }
  | { name: "CLOSE" }
  | { name: "UNSELECT" }
  /** `uids` for UID EXPUNGE (UIDPLUS). */
  | { name: "EXPUNGE"; uids?: SequenceSet }
  | {
      name: "SEARCH";
      uid: boolean;
      charset?: string;
      /** ESEARCH `RETURN (...)`; absent for a plain SEARCH; `[]` means `RETURN ()` = ALL. */
      returns?: SearchReturn[];
      key: SearchKey;
    }
  | { name: "FETCH"; uid: boolean; set: SequenceSet; attributes: FetchAttribute[]; changedSince?: number; vanished?: boolean }
  | {
      name: "STORE";
      uid: boolean;
      set: SequenceSet;
      action: "set" | "add" | "remove";
      silent: boolean;
      flags: string[];
      unchangedSince?: number;
    }
  | { name: "COPY" | "MOVE"; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: "IDLE" }
  | { name: "GETQUOTA"; root: string }
  | { name: "GETQUOTAROOT"; mailbox: string }
  | { name: "SETQUOTA"; root: string; limits: Array<{ resource: string; limit: number }> };

export type CommandName = Command["name"];

/** A parsed command line with its tag. */
export interface Request {
  tag: string;
  command: Command;
}

/** A command the parser refused: answered `<tag> BAD <text>` (or `* BAD` when no tag could be read). */
export interface ParseFailure {
  tag: string | null;
  text: string;
}
