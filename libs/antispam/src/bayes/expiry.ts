/** What `BayesStore.expire` drops (0 days = never). */
export interface ExpiryOptions {
  /** Tokens not learned for this many days... */
  tokenDays: number;
  /** ...and in at most this many learned messages (spam + ham). */
  maxCount: number;
  /** Records of learned messages (kept to unlearn a message exactly) older than this many days. */
  recordDays: number;
}

/** Tokens of one message not learned again for half a year go; records are kept a year, for corrections. */
export const defaultExpiryOptions: ExpiryOptions = { tokenDays: 180, maxCount: 1, recordDays: 365 };
