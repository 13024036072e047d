const DOT = Buffer.from(".");
const CRLF = Buffer.from("\r\n");
const LF = Buffer.from("\n");

/**
 * Turns a stored message into a POP3 multi-line response body, chunk by chunk (RFC 1939 3):
 * every line ends in CRLF (a bare LF gets its CR), a line starting with "." gets another ".", and
 * `end()` finishes the last line and adds the terminating ".". With `bodyLines` (TOP) it stops
 * after the header, the blank line and that many body lines; `done` then says to stop reading.
 */
export class DotStuffer {
  private atLineStart = true;
  private prevCR = false;
  /** Octets of the current line so far, its CR included. */
  private lineBytes = 0;
  private inBody = false;
  private bodyLinesSent = 0;
  done = false;

  constructor(private readonly bodyLines?: number) {
    if (bodyLines !== undefined && bodyLines < 0) throw new RangeError("bodyLines must be 0 or more");
  }

  push(chunk: Buffer): Buffer {
    if (this.done) return Buffer.alloc(0);
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.atLineStart) {
        if (chunk[i] === 0x2e) out.push(DOT);
        this.atLineStart = false;
      }
      const lf = chunk.indexOf(10, i);
      if (lf === -1) {
        out.push(chunk.subarray(i));
        this.lineBytes += chunk.length - i;
        this.prevCR = chunk[chunk.length - 1] === 13;
        break;
      }
      const crBefore = lf > i ? chunk[lf - 1] === 13 : this.prevCR;
      if (crBefore) {
        out.push(chunk.subarray(i, lf + 1));
      } else {
        out.push(chunk.subarray(i, lf), CRLF);
      }
      const contentBytes = this.lineBytes + (lf - i) - (crBefore ? 1 : 0);
      this.atLineStart = true;
      this.prevCR = false;
      this.lineBytes = 0;
      i = lf + 1;
      if (this.lineEnded(contentBytes === 0)) {
        this.done = true;
        break;
      }
    }
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** The rest of the response: the end of an unfinished last line and the terminating ".CRLF". */
  end(): Buffer {
    const tail = this.atLineStart ? [] : [this.prevCR ? LF : CRLF];
    return Buffer.concat([...tail, DOT, CRLF]);
  }

  /** True when TOP has sent all it should. */
  private lineEnded(empty: boolean): boolean {
    if (this.bodyLines === undefined) return false;
    if (!this.inBody) {
      if (!empty) return false;
      this.inBody = true;
      return this.bodyLines === 0;
    }
    this.bodyLinesSent++;
    return this.bodyLinesSent >= this.bodyLines;
  }
}
