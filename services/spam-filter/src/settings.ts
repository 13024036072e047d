import { antispamSchema } from "@postline/antispam";
import { field } from "@postline/config";

export const spamFilterSchema = antispamSchema.extend({
  /** How many partitions of mail.received / mail.submitted one process classifies at once (all 12 by default). */
  POSTLINE_SPAM_CONCURRENCY: field.positiveInt(12),
});
