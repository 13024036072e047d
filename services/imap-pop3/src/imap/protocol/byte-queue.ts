/**
 * A FIFO of socket chunks that hands out lines and byte runs without concatenating the whole
 * buffer: chunks are kept as they arrived and consumed from the front; the search for a line
 * end resumes where the previous search stopped, so a line arriving in many small chunks costs
 * linear time.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks`. */
  private head = 0;
  /** Bytes already consumed from chunks[head]. */
  private headOffset = 0;
  private total = 0;
  /** Where the next line-feed search resumes: chunk index and offset, and how many bytes lie before it. */
  private scanChunk = 0;
  private scanOffset = 0;
  private scanned = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.total = 0;
    this.resetScan();
  }

  /**
   * The number of bytes up to and including the first LF, or -1 when there is none yet; `scannedBytes`
   * then tells how many bytes are known to hold no LF.
   */
  findLineFeed(): number {
    while (this.scanChunk < this.chunks.length) {
      const chunk = this.chunks[this.scanChunk]!;
      const at = chunk.indexOf(10, this.scanOffset);
      if (at >= 0) return this.scanned + (at - this.scanOffset) + 1;
      this.scanned += chunk.length - this.scanOffset;
      this.scanChunk++;
      this.scanOffset = 0;
    }
    return -1;
  }

  get scannedBytes(): number {
    return this.scanned;
  }

  /** Removes and returns the first `n` bytes as one buffer (a view when they lie in one chunk). */
  take(n: number): Buffer {
    const parts = this.takeParts(n);
    if (parts.length === 1) return parts[0]!;
    return Buffer.concat(parts);
  }

  /** Removes the first `n` bytes (at most `length`) and returns them as views into the chunks. */
  takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    let want = Math.min(n, this.total);
    while (want > 0) {
      const chunk = this.chunks[this.head]!;
      const available = chunk.length - this.headOffset;
      if (available <= want) {
        parts.push(this.headOffset === 0 ? chunk : chunk.subarray(this.headOffset));
        want -= available;
        this.total -= available;
        this.dropHead();
      } else {
        parts.push(chunk.subarray(this.headOffset, this.headOffset + want));
        this.headOffset += want;
        this.total -= want;
        want = 0;
      }
    }
    this.resetScan();
    return parts;
  }

  /** Discards the first `n` bytes. */
  skip(n: number): void {
    this.takeParts(n);
  }

  /** Up to `n` bytes from the front, without consuming them. */
  peek(n: number): Buffer {
    const parts: Buffer[] = [];
    let want = Math.min(n, this.total);
    let index = this.head;
    let offset = this.headOffset;
    while (want > 0) {
      const chunk = this.chunks[index]!;
      const piece = chunk.subarray(offset, Math.min(chunk.length, offset + want));
      parts.push(piece);
      want -= piece.length;
      index++;
      offset = 0;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private dropHead(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.headOffset = 0;
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  private resetScan(): void {
    this.scanChunk = this.head;
    this.scanOffset = this.headOffset;
    this.scanned = 0;
  }
}

const EMPTY = Buffer.alloc(0);
