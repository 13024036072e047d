/** A blob key is the hex sha256 of the content: 64 lowercase hex digits. */
const BLOB_KEY = /^[0-9a-f]{64}$/;

/** Anything else can never name a stored blob (and must never reach a file path or an object name). */
export function isBlobKey(key: string): boolean {
  return BLOB_KEY.test(key);
}

/** Validates a requested byte range: non-negative integers (end may be anything ≥ 0; it is clamped later). */
export function checkRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`range start must be a non-negative integer, got ${start}`);
  if (!Number.isSafeInteger(end) || end < 0) throw new RangeError(`range end must be a non-negative integer, got ${end}`);
}
