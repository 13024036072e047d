import type { BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { Readable } from "node:stream";
import type { Command, CommandName, SequenceSet } from "../../protocol/types.ts";

/** The tagged reply an op ends with: `<tag> OK [CODE] text`. */
export interface TaggedResult {
  status: "OK" | "NO" | "BAD";
  /** Response code without brackets, e.g. `APPENDUID 38505 3955`, `TRYCREATE`, `READ-ONLY`. */
  code?: string;
  text: string;
}

/**
 * Where an op writes its untagged responses. Text is written as given (the op serialises with
 * ../../protocol/ encoders and ends each response with CRLF); `stream` copies a body (the content
 * of a literal whose `{n}\r\n` prefix was already written) and waits for the socket to drain, so a
 * large message is never held in memory.
 */
export interface ResponseSink {
  write(chunk: string | Buffer): void;
  stream(body: Readable): Promise<void>;
}

export type SessionState = "not-authenticated" | "authenticated" | "selected" | "logout";

export interface AuthenticatedAccount {
  id: number;
  address: string;
}

/** A change made by this process, announced on `mailbox.changed` for every other session and process. */
export interface MailboxChange {
  accountId: number;
  mailboxId: number;
  uid: number;
  modseq: number;
  kind: "append" | "expunge" | "flags";
  mailId?: string;
  /** An append made by COPY or MOVE: the mailbox it came from (spam learning tells Junk moves by it). */
  sourceMailboxId?: number;
}

/** Receives `mailbox.changed` (from the bus and from this process) and wakes the sessions that watch a mailbox. */
export interface ChangeNotifier {
  /** Calls `onChange` after any change to the mailbox (possibly coalesced); returns the unsubscribe function. */
  watch(mailboxId: number, onChange: () => void): () => void;
  /** Publishes our own changes: local watchers are woken at once, other processes through the bus. */
  announce(changes: MailboxChange[]): Promise<void>;
}

/**
 * The selected mailbox as this session sees it (RFC 9051 5.2): the sequence-number ↔ UID map, and
 * the updates the session still owes its client. Implemented in ./mailbox-view.ts.
 */
export interface SelectedMailbox {
  readonly mailboxId: number;
  readonly name: string;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  /** Sequence numbers, UIDs: the session's current view. */
  uidOf(seq: number): number | undefined;
  seqOf(uid: number): number | undefined;
  readonly exists: number;
  /** UIDs of a sequence set in the view (`uid` says whether the set holds UIDs or sequence numbers), ascending. */
  resolve(set: SequenceSet, uid: boolean): number[];
  /**
   * Brings the view up to date with the store and writes what the client is owed: EXISTS, RECENT
   * (rev1), FETCH for changed flags, and EXPUNGE (or VANISHED with QRESYNC) when `expunges` is
   * true. RFC 9051 7.5.1 forbids EXPUNGE during FETCH, STORE and SEARCH: those pass false.
   * `ifChanged`: the store may be left unread when no change to the mailbox was notified since the
   * last look and that look is recent (the session's sync after ordinary commands); without it the
   * store is always read.
   */
  sync(out: ResponseSink, options: { expunges: boolean; ifChanged?: boolean }): Promise<void>;
  /** Stops watching for changes. */
  close(): void;
}

/** Everything a command op needs; one per session. */
export interface SessionContext {
  readonly id: string;
  state: SessionState;
  account?: AuthenticatedAccount;
  selected?: SelectedMailbox;
  /** ENABLEd extensions, upper-cased: CONDSTORE, QRESYNC, IMAP4REV2, UTF8=ACCEPT. */
  readonly enabled: Set<string>;
  /** The result of the last SEARCH RETURN (SAVE), as UIDs (RFC 5182), reset on SELECT. */
  savedSearch: number[];
  /** The tag of the command being executed, set by the session before each op (ESEARCH's `(TAG "a1")` correlator). */
  tag?: string;
  readonly tls: boolean;
  readonly clientIp: string;
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly notifier: ChangeNotifier;
  readonly settings: ImapLimits;
}

export interface ImapLimits {
  /** APPENDLIMIT: the largest message APPEND accepts, in octets. */
  appendLimit: number;
}

/** One command's execution against the store. One file a command in ../op/. */
export type Op<N extends CommandName = CommandName> = (
  ctx: SessionContext,
  command: Extract<Command, { name: N }>,
  out: ResponseSink,
) => Promise<TaggedResult>;
