/** One line from the client, without its line ending; `overlong` when it exceeded the limit (its text is then dropped). */
export type Line = { text: Buffer; overlong: false } | { text: null; overlong: true };

/**
 * Splits the client's bytes into lines ending in LF (a CR before it is dropped). Memory is
 * bounded: past `maxLength` octets a line is discarded up to its LF and reported as overlong.
 */
export class LineReader {
  private parts: Buffer[] = [];
  private length = 0;
  private discarding = false;

  constructor(private readonly maxLength: number) {}

  push(chunk: Buffer): Line[] {
    const lines: Line[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(10, start);
      const end = lf === -1 ? chunk.length : lf;
      if (!this.discarding) {
        this.length += end - start;
        if (this.length > this.maxLength + 1) {
          this.discarding = true;
          this.parts = [];
        } else {
          this.parts.push(chunk.subarray(start, end));
        }
      }
      if (lf === -1) break;
      if (this.discarding) {
        lines.push({ text: null, overlong: true });
      } else {
        let text = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
        if (text.length > 0 && text[text.length - 1] === 13) text = text.subarray(0, text.length - 1);
        if (text.length > this.maxLength) lines.push({ text: null, overlong: true });
        else lines.push({ text: Buffer.from(text), overlong: false });
      }
      this.parts = [];
      this.length = 0;
      this.discarding = false;
      start = lf + 1;
    }
    return lines;
  }

  /** Forgets a partial line (STLS: plaintext sent before the handshake must not count). */
  clear(): void {
    this.parts = [];
    this.length = 0;
    this.discarding = false;
  }
}
