import { antispamSchema, defaultExpiryOptions } from "@postline/antispam";
import { field, z } from "@postline/config";

export const spamFilterSchema = antispamSchema.extend({
  /** How many partitions of mail.received / mail.submitted one process classifies at once (all 12 by default). */
  POSTLINE_SPAM_CONCURRENCY: field.positiveInt(12),
  /**
   * Classified records' offsets are committed together at most this often (one request for every
   * partition); 0 commits each record. Classifying again after a crash only repeats a
   * mail.classified event, which delivery de-duplicates.
   */
  POSTLINE_SPAM_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).default(200),
  /**
   * Outbound rate of submitted mail, per authenticated account, counted in PostgreSQL (shared by every
   * replica): more messages than this in the minute up to a message → OUTBOUND_BURST; 0 = no check.
   */
  POSTLINE_SPAM_OUTBOUND_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** More messages than this in the hour up to a message → OUTBOUND_RATE_HIGH; 0 = no check. */
  POSTLINE_SPAM_OUTBOUND_PER_HOUR: z.coerce.number().int().min(0).default(300),
  /** More distinct recipients than this in the hour up to a message → OUTBOUND_RCPTS_HIGH; 0 = no check. */
  POSTLINE_SPAM_OUTBOUND_RCPTS_PER_HOUR: z.coerce.number().int().min(0).default(500),
  /** The score of each outbound rate symbol; by default POSTLINE_SPAM_QUARANTINE_SCORE, so any one of them quarantines. */
  POSTLINE_SPAM_OUTBOUND_SCORE: z.coerce.number().optional(),

  // Learning from users and per-account verdicts (docs/spam-filter.md "Learning from users and per-account verdicts").
  /**
   * Learn from users: a message moved or copied into an account's \Junk mailbox trains that account's
   * Bayes model as spam, one moved out of Junk (not into Trash) as ham (consumer group spam-learner).
   */
  POSTLINE_SPAM_LEARN_FROM_USERS: field.bool(true),
  /**
   * Also train the global model from users' moves. Off by default: one user's moves would change the
   * verdicts of every other account; the global model is trained with `postline spam train` (and autolearn).
   */
  POSTLINE_SPAM_LEARN_GLOBAL_FROM_USERS: field.bool(false),
  /** How many accounts' mailbox.changed partitions the learner handles at once. */
  POSTLINE_SPAM_LEARN_CONCURRENCY: field.positiveInt(4),
  /**
   * The learner's offsets are committed together at most this often; 0 commits each record. Every
   * delivered message is a mailbox.changed record the learner reads (most teach nothing), and one
   * commit each was a quarter of the broker's requests and half of its CPU. Handling records again
   * after a crash relearns them in their order, which ends in the same model.
   */
  POSTLINE_SPAM_LEARN_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).default(200),
  /**
   * The learner lets mailbox.changed records gather up to this long (or 64 KiB) before a fetch
   * returns them (0: each as soon as it arrives). A Junk move is learned this much later at most;
   * under load the learner reads a few full fetches a second instead of one per delivered message.
   */
  POSTLINE_SPAM_LEARN_FETCH_WAIT_MS: z.coerce.number().int().min(0).default(500),
  /** Seconds a recipient → local accounts resolution is reused for the per-account verdicts (0: every message asks the directory). */
  POSTLINE_SPAM_RECIPIENT_CACHE_SECONDS: z.coerce.number().int().min(0).default(30),
  // --- Reputation, allow/block lists, reply tracking, verdict record (policy/) ---
  /** Recorded verdicts (`postline spam verdict`) are deleted after this many days; 0 = do not record verdicts. */
  POSTLINE_SPAM_VERDICT_RETENTION_DAYS: z.coerce.number().int().min(0).default(30),
  /** Sender reputation (REPUTATION_* symbols, learnt from inbound verdicts): false turns off both scoring and learning. */
  POSTLINE_SPAM_REPUTATION: field.bool(true),
  /** A sender key (IP /24 or /64, authenticated domain, DKIM domain) is scored only after this many counted verdicts. */
  POSTLINE_SPAM_REPUTATION_MIN_VERDICTS: field.positiveInt(10),
  /** An inbound verdict counts as good when its score (without the REPUTATION_* symbols) is at most this. */
  POSTLINE_SPAM_REPUTATION_GOOD_SCORE: z.coerce.number().default(1),
  /** ...and as bad when it is at least this (default: POSTLINE_SPAM_JUNK_SCORE); in between it is not counted. */
  POSTLINE_SPAM_REPUTATION_BAD_SCORE: z.coerce.number().optional(),
  /** Reputation counts are read from PostgreSQL at most this often per key and process. */
  POSTLINE_SPAM_REPUTATION_CACHE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** Reputation of keys without a verdict for this many days is forgotten. */
  POSTLINE_SPAM_REPUTATION_MAX_AGE_DAYS: field.positiveInt(90),
  /** Reply tracking keeps at most this many recipients per account (the most recently written to). */
  POSTLINE_SPAM_REPLY_MAX_CONTACTS: field.positiveInt(5000),
  /** ...and forgets a recipient not written to for this many days. */
  POSTLINE_SPAM_REPLY_MAX_AGE_DAYS: field.positiveInt(365),
  /**
   * The verdict record and the reputation counts are written behind: buffered in the process and
   * written together (one statement a table) at most this many milliseconds after a verdict, or
   * once 1000 are waiting, and on stop; 0 = each verdict at once. A crash loses at most this
   * interval of these observations (never mail, nor the verdict in mail.classified).
   */
  POSTLINE_SPAM_OBSERVER_FLUSH_MS: z.coerce.number().int().min(0).default(200),
  /**
   * Seconds an account's allow/block list matches for one sender are reused in a process; a list
   * change (admin API, CLI) applies within this. 0 = every message asks PostgreSQL.
   */
  POSTLINE_SPAM_LISTS_CACHE_SECONDS: z.coerce.number().int().min(0).default(10),
  /**
   * Seconds an account's reply-contact lookup for one sender is reused in a process (the replica
   * that recorded new contacts forgets the account's at once; others within this). 0 = not cached.
   */
  POSTLINE_SPAM_REPLY_CACHE_SECONDS: z.coerce.number().int().min(0).default(10),
  // --- end reputation, lists, reply tracking ---
  // --- Bayes (libs/antispam/src/bayes; docs/spam-filter.md "Statistical classifier (Bayes)") ---
  /** The Bayes classifier: BAYES_SPAM/BAYES_HAM from the global model, BAYES_USER_* from the account's; false = neither (and no autolearn). */
  POSTLINE_SPAM_BAYES: field.bool(true),
  /** The global model scores only after learning this many spams and this many hams (as SpamAssassin's 200/200). */
  POSTLINE_SPAM_BAYES_MIN_SPAM: z.coerce.number().int().min(0).default(200),
  POSTLINE_SPAM_BAYES_MIN_HAM: z.coerce.number().int().min(0).default(200),
  /**
   * The global model's logistic regression (LOGREG_SPAM/HAM) as its main statistical verdict, the
   * chi-square at a tenth; false = the chi-square alone, in full (docs/spam-filter.md). It learns either way.
   */
  POSTLINE_SPAM_BAYES_LOGISTIC: field.bool(true),
  /** An account's learned messages count this many times over the global model's for that account (see the docs). */
  POSTLINE_SPAM_BAYES_ACCOUNT_WEIGHT: z.coerce.number().positive().default(10),
  /** The global model's counts may be this stale in a process (account models are never stale). */
  POSTLINE_SPAM_BAYES_CACHE_SECONDS: z.coerce.number().int().min(0).default(30),
  /** Token counts cached per process (about the most recently used, all models: TokenCache). */
  POSTLINE_SPAM_BAYES_CACHE_ENTRIES: field.positiveInt(200_000),
  /** Autolearn: inbound verdicts clear enough without the Bayes symbols train the global model (key: the mail id). */
  POSTLINE_SPAM_AUTOLEARN: field.bool(true),
  /** ...as spam when the score without BAYES_* symbols is at least this (SpamAssassin: 12). */
  POSTLINE_SPAM_AUTOLEARN_SPAM_SCORE: z.coerce.number().default(12),
  /** ...as ham when it is at most this (negative by default: it takes evidence, e.g. DMARC/DKIM/SPF pass, not just no symbols). */
  POSTLINE_SPAM_AUTOLEARN_HAM_SCORE: z.coerce.number().default(-1),
  /**
   * Expiry (docs/spam-filter.md "Expiry"): tokens in at most POSTLINE_SPAM_BAYES_EXPIRE_MAX_COUNT
   * learned messages and not learned for this many days are dropped; 0 = tokens never expire.
   */
  POSTLINE_SPAM_BAYES_EXPIRE_DAYS: z.coerce.number().int().min(0).default(defaultExpiryOptions.tokenDays),
  POSTLINE_SPAM_BAYES_EXPIRE_MAX_COUNT: z.coerce.number().int().min(0).default(defaultExpiryOptions.maxCount),
  /** Records of learned messages (to unlearn one exactly on a correction) are dropped after this many days; 0 = kept. */
  POSTLINE_SPAM_BAYES_RECORD_DAYS: z.coerce.number().int().min(0).default(defaultExpiryOptions.recordDays),
  /** How often each spam-filter process runs the expiry (the first run after a random part of it); 0 = never (`postline spam expire` by hand). */
  POSTLINE_SPAM_BAYES_EXPIRE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(21_600),
  // --- end Bayes ---
  // --- Rspamd (optional; docs/spam-filter.md "Greylisting and Rspamd") ---
  /** An Rspamd normal worker (e.g. `http://127.0.0.1:11333`); unset = Rspamd is not asked. */
  POSTLINE_RSPAMD_URL: field.url().optional(),
  /** Sent as Rspamd's `Password` header, if set. */
  POSTLINE_RSPAMD_PASSWORD: z.string().optional(),
  /** The RSPAMD symbol scores Rspamd's score times this (0 = only informational). */
  POSTLINE_RSPAMD_WEIGHT: z.coerce.number().min(0).default(1),
  /** How long one Rspamd check may take; past it the message is classified without Rspamd. */
  POSTLINE_RSPAMD_TIMEOUT_MS: field.positiveInt(5000),
  /** Rspamd's action `reject` rejects (RSPAMD_REJECT) whatever the total score. Off: only its score counts. */
  POSTLINE_RSPAMD_HONOUR_REJECT: field.bool(false),
  // --- end Rspamd ---
});

export type SpamFilterSettings = z.infer<typeof spamFilterSchema>;
