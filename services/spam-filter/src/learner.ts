import { BayesStore, bayesTokens, messageKeyOf, parseContent, type SpamClass } from "@postline/antispam";
import { BlobNotFoundError, type BlobStore } from "@postline/blobstore";
import { Topics, type Bus, type Consumer } from "@postline/bus";
import type { Db } from "@postline/db";
import { eventHandler, mailboxChanged, type MailboxChanged } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import { Counter, type Registry } from "prom-client";
import type { SpamFilterSettings } from "./settings.ts";

export const LEARNER_GROUP = "spam-learner";

const JUNK = "\\Junk";
const TRASH = "\\Trash";

export type LearnOutcome = "learned" | "relearned" | "already" | "gone";

export interface LearnerDeps {
  db: Db;
  blobs: BlobStore;
  logger: Logger;
  registry: Registry;
  store: BayesStore;
  /** Also train the global model (POSTLINE_SPAM_LEARN_GLOBAL_FROM_USERS). */
  learnGlobal: boolean;
  /** Bytes of a message read for learning (as the classifier parses at most). */
  maxContentBytes: number;
}

/**
 * Online learning from users (consumer group `spam-learner` on `mailbox.changed`). Only appends a
 * user made (`origin: "user"`: IMAP APPEND, COPY, MOVE) are looked at:
 *
 * - into the account's `\Junk` mailbox (special-use) → the message is learned as spam;
 * - from a `\Junk` mailbox (`sourceMailboxId`: COPY or MOVE) into one that is neither Junk nor Trash
 *   → learned as ham; the store's correction unlearns the earlier spam.
 *
 * Into the account's model only, unless learnGlobal. MOVE and COPY + EXPUNGE look the same here: an
 * append with a source mailbox (the expunge is not needed). The message is read from the blob store
 * (its row by mailbox id and uid: a row already gone, e.g. moved on or expunged, is skipped) without
 * the header fields delivery put on top (Return-Path, X-Postline-Spam, Authentication-Results), so it is
 * learned as it was classified: since migration 0012 those fields are the row's header_prefix and the
 * blob is the message as received; a row without a prefix has them in its blob (withoutDeliveryHeader).
 * Its key is `sha256:` of those bytes (messageKeyOf): the same for every
 * copy of it in every account and mailbox whatever verdict header its copy carries, and for the same
 * file given to `postline spam train`. (The mail id is not a usable key: a COPY does not carry it.) The
 * store learns a key at most once per class and model, so a redelivered event changes nothing.
 */
export class Learner {
  private readonly learned: Counter<"class" | "outcome" | "model">;

  constructor(private readonly deps: LearnerDeps) {
    this.learned = new Counter({
      name: "postline_spam_learner_messages_total",
      help: "Messages learned from users' moves into and out of Junk, by class, outcome (learned, relearned = corrected, already, gone = no longer there) and model (account, global)",
      labelNames: ["class", "outcome", "model"],
      registers: [deps.registry],
    });
  }

  /** What a change teaches: spam, ham or nothing. */
  async classOf(change: MailboxChanged): Promise<{ cls: SpamClass; accountId: number } | null> {
    if (change.kind !== "append" || change.origin !== "user") return null;
    const ids = change.sourceMailboxId ? [change.mailboxId, change.sourceMailboxId] : [change.mailboxId];
    const r = await this.deps.db.query<{ id: number; account_id: number; special_use: string | null }>(
      "SELECT id, account_id, special_use FROM mailboxes WHERE id = ANY($1::bigint[])",
      [ids],
    );
    const dest = r.rows.find((m) => Number(m.id) === change.mailboxId);
    if (!dest || Number(dest.account_id) !== change.accountId) return null;
    if (dest.special_use === JUNK) return { cls: "spam", accountId: change.accountId };
    if (!change.sourceMailboxId || dest.special_use === TRASH) return null;
    const source = r.rows.find((m) => Number(m.id) === change.sourceMailboxId);
    // A source mailbox deleted meanwhile is not known to have been Junk: nothing is learned.
    if (source?.special_use === JUNK && Number(source.account_id) === change.accountId) return { cls: "ham", accountId: change.accountId };
    return null;
  }

  /** Handles one mailbox.changed event; resolves once whatever it learned is committed. */
  async handle(change: MailboxChanged): Promise<LearnOutcome | null> {
    const what = await this.classOf(change);
    if (!what) return null;
    const { cls, accountId } = what;
    const log = this.deps.logger.child({ accountId, mailboxId: change.mailboxId, uid: change.uid, class: cls });
    const row = await this.deps.db.query<{ blob_hash: string; prefixed: boolean }>(
      "SELECT blob_hash, header_prefix IS NOT NULL AS prefixed FROM messages WHERE mailbox_id = $1 AND uid = $2",
      [change.mailboxId, change.uid],
    );
    const blobHash = row.rows[0]?.blob_hash;
    if (!blobHash) {
      log.info("message no longer in the mailbox: not learned");
      this.learned.inc({ class: cls, outcome: "gone", model: "account" });
      return "gone";
    }
    let stored: Buffer;
    try {
      stored = await readAll(await this.deps.blobs.get(blobHash));
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err; // the blob store down: the bus retries
      log.warn({ blob: blobHash }, "message blob missing: not learned");
      this.learned.inc({ class: cls, outcome: "gone", model: "account" });
      return "gone";
    }
    const received = row.rows[0]!.prefixed ? stored : withoutDeliveryHeader(stored);
    const key = messageKeyOf(received);
    const tokens = bayesTokens(await parseContent(received, this.deps.maxContentBytes));
    const outcome = await this.deps.store.learn(accountId, key, cls, tokens);
    this.learned.inc({ class: cls, outcome, model: "account" });
    if (this.deps.learnGlobal) {
      const global = await this.deps.store.learn(null, key, cls, tokens);
      this.learned.inc({ class: cls, outcome: global, model: "global" });
    }
    log.info({ key, outcome, tokens: tokens.length }, outcome === "already" ? "already learned" : "learned from the user");
    return outcome;
  }
}

export interface StartLearnerDeps {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  registry: Registry;
  settings: SpamFilterSettings;
  /** Default: a store of its own on `db`. */
  store?: BayesStore;
}

/** Starts the learner's consumer; `stop()` finishes the event in flight and commits it. */
export async function startLearner(deps: StartLearnerDeps): Promise<Consumer> {
  const logger = deps.logger.child({ component: "spam-learner" });
  const learner = new Learner({
    db: deps.db,
    blobs: deps.blobs,
    logger,
    registry: deps.registry,
    store: deps.store ?? new BayesStore(deps.db),
    learnGlobal: deps.settings.POSTLINE_SPAM_LEARN_GLOBAL_FROM_USERS,
    maxContentBytes: deps.settings.POSTLINE_SPAM_MAX_CONTENT_BYTES,
  });
  const consumer = await deps.bus.consume({
    groupId: LEARNER_GROUP,
    topics: [Topics.mailboxChanged],
    partitionsConcurrently: deps.settings.POSTLINE_SPAM_LEARN_CONCURRENCY,
    commitIntervalMs: deps.settings.POSTLINE_SPAM_LEARN_COMMIT_INTERVAL_MS,
    gatherMs: deps.settings.POSTLINE_SPAM_LEARN_FETCH_WAIT_MS,
    handler: eventHandler(
      mailboxChanged,
      async (event) => {
        await learner.handle(event);
      },
      (err, message) => logger.error({ err, topic: message.topic, offset: message.offset }, "invalid event skipped"),
    ),
  });
  logger.info({ learnGlobal: deps.settings.POSTLINE_SPAM_LEARN_GLOBAL_FROM_USERS }, "learning from users' Junk moves");
  return consumer;
}

const DELIVERY_FIELDS = ["return-path", "x-postline-spam", "authentication-results"];

/**
 * The message without the header fields delivery put on top of it (in this order: Return-Path,
 * X-Postline-Spam, then Authentication-Results when there was one; see services/delivery's
 * stored-message.ts). A message that does not start with Return-Path then X-Postline-Spam (e.g. one
 * a user APPENDed) is returned as it is.
 */
export function withoutDeliveryHeader(stored: Buffer): Buffer {
  let at = 0;
  for (let i = 0; i < DELIVERY_FIELDS.length; i++) {
    const name = DELIVERY_FIELDS[i]!;
    const head = stored.subarray(at, at + name.length + 1).toString("latin1").toLowerCase();
    if (head !== `${name}:`) {
      if (i < 2) return stored;
      break;
    }
    at = endOfField(stored, at);
  }
  return stored.subarray(at);
}

/** The offset after a header field and its continuation lines. */
function endOfField(buf: Buffer, start: number): number {
  let at = start;
  for (;;) {
    const lf = buf.indexOf(10, at);
    if (lf === -1) return buf.length;
    at = lf + 1;
    if (buf[at] !== 0x20 && buf[at] !== 0x09) return at;
  }
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
