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
});
