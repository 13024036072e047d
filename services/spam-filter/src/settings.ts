import { antispamSchema } from "@postline/antispam";
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
});

export type SpamFilterSettings = z.infer<typeof spamFilterSchema>;
