import { ByteQueue } from "./byte-queue.ts";
import { parseCommand, tagOf } from "./parse/index.ts";
import type { CommandSegment } from "./segments.ts";
import type { ParseFailure, Request } from "./types.ts";

export type Received =
  | { kind: "request"; request: Request }
  /** fatal: the session writes the BAD and closes. */
  | { kind: "failure"; failure: ParseFailure; fatal: boolean }
  | { kind: "end" };

export interface ReceiverOptions {
  /** One line (excluding literal contents), e.g. 64 KiB. */
  maxLineLength: number;
  /** The APPENDLIMIT. */
  maxLiteralSize: number;
  /** All lines + literals of one command. */
  maxCommandSize: number;
  /** A synchronising literal {n} was announced and is acceptable: the session must write "+ Ready for literal data\r\n". */
  continueLiteral(): void;
}

/** `{n}`, `{n+}`, `~{n}`, `~{n+}` ending a line. */
const LITERAL_AT_END = /(~?)\{(\d{1,20})(\+?)\}$/;

interface LiteralInProgress {
  /** The line that announced it, without the announcement. */
  text: Buffer;
  size: number;
  binary: boolean;
  parts: Buffer[];
  got: number;
}

type Waiter = { line: false; resolve: (r: Received) => void } | { line: true; resolve: (l: string | null) => void };

type LineRead = { line: Buffer } | { overflow: true; tag: string | null } | undefined;

/**
 * Streaming, pull-based IMAP command receiver. Bytes are queued by `push` and taken apart only when
 * `next()` or `nextLine()` asks, so the line after IDLE or AUTHENTICATE is never read as a command.
 *
 * Memory: `buffered` counts bytes received and not yet taken by a call. While a call is pending, it
 * takes bytes as they arrive (literal contents go into the command being assembled, bounded by
 * maxCommandSize), and a partial line longer than maxLineLength is discarded up to its line end, so
 * `buffered` stays below maxLineLength + one chunk. A session should pause the socket when
 * `buffered` exceeds its bound while no call is `waiting`, and resume it before awaiting a call.
 */
export class CommandReceiver {
  private readonly queue = new ByteQueue();
  private readonly waiters: Waiter[] = [];
  private ended = false;
  /** A fatal failure was returned: nothing more is read. */
  private dead = false;
  private pumping = false;
  private segments: CommandSegment[] = [];
  private commandSize = 0;
  private literal: LiteralInProgress | null = null;
  /** Discarding the rest of an over-long line; the failure is returned at its end. */
  private overflowing = false;
  private overflowTag: string | null = null;

  constructor(private readonly options: ReceiverOptions) {}

  /** New literal and command limits, for the commands not yet received (e.g. raised after login). */
  setLimits(limits: Pick<ReceiverOptions, "maxLiteralSize" | "maxCommandSize">): void {
    this.options.maxLiteralSize = limits.maxLiteralSize;
    this.options.maxCommandSize = limits.maxCommandSize;
  }

  /** Bytes received and not yet taken by next()/nextLine(). */
  get buffered(): number {
    return this.queue.length;
  }

  /** Bytes held for the command being assembled (its lines and literal contents so far). */
  get assembling(): number {
    let n = 0;
    for (const s of this.segments) n += s.text.length + (s.literal?.length ?? 0);
    return n + (this.literal ? this.literal.text.length + this.literal.got : 0);
  }

  /** True while a next()/nextLine() call waits for bytes. */
  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  push(chunk: Buffer): void {
    if (this.ended || this.dead || chunk.length === 0) return;
    this.queue.push(chunk);
    this.pump();
  }

  end(): void {
    this.ended = true;
    this.pump();
  }

  next(): Promise<Received> {
    return new Promise((resolve) => {
      this.waiters.push({ line: false, resolve });
      this.pump();
    });
  }

  nextLine(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiters.push({ line: true, resolve });
      this.pump();
    });
  }

  /** After STARTTLS: discards everything received before the handshake (RFC 3207 / RFC 2595 injection defence). */
  reset(): void {
    this.queue.clear();
    this.resetCommand();
    this.overflowing = false;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const waiter = this.waiters[0]!;
        if (waiter.line) {
          const line = this.stepLine();
          if (line === undefined) break;
          this.waiters.shift();
          waiter.resolve(line);
        } else {
          const received = this.stepCommand();
          if (received === undefined) break;
          this.waiters.shift();
          waiter.resolve(received);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private resetCommand(): void {
    this.segments = [];
    this.commandSize = 0;
    this.literal = null;
  }

  /** The next line without its line end; undefined when it has not fully arrived. */
  private readLine(): LineRead {
    const { maxLineLength } = this.options;
    for (;;) {
      const n = this.queue.findLineFeed();
      if (this.overflowing) {
        if (n < 0) {
          this.queue.skip(this.queue.length);
          return undefined;
        }
        this.queue.skip(n);
        this.overflowing = false;
        return { overflow: true, tag: this.overflowTag };
      }
      if (n < 0) {
        if (this.queue.length <= maxLineLength + 1) return undefined;
        this.overflowTag = tagOf(this.queue.peek(65));
        this.overflowing = true;
        continue;
      }
      let line = this.queue.take(n);
      let end = line.length - 1;
      if (end > 0 && line[end - 1] === 0x0d) end--;
      line = line.subarray(0, end);
      if (line.length > maxLineLength) return { overflow: true, tag: tagOf(line.subarray(0, 65)) };
      return { line };
    }
  }

  private stepLine(): string | null | undefined {
    if (this.dead) return null;
    const read = this.readLine();
    if (read === undefined) return this.ended ? null : undefined;
    // An over-long continuation line reads as "*", which cancels an AUTHENTICATE and ends an IDLE with BAD.
    if ("overflow" in read) return "*";
    return read.line.toString("utf8");
  }

  private failure(tag: string | null, text: string, fatal: boolean): Received {
    this.resetCommand();
    if (fatal) {
      this.dead = true;
      this.queue.clear();
    }
    return { kind: "failure", failure: { tag, text }, fatal };
  }

  private commandTag(line: Buffer): string | null {
    return tagOf(this.segments[0]?.text ?? line);
  }

  private stepCommand(): Received | undefined {
    if (this.dead) return { kind: "end" };
    const { maxLiteralSize, maxCommandSize } = this.options;
    for (;;) {
      const literal = this.literal;
      if (literal) {
        if (literal.got < literal.size) {
          const parts = this.queue.takeParts(literal.size - literal.got);
          for (const part of parts) {
            literal.parts.push(part);
            literal.got += part.length;
          }
          if (literal.got < literal.size) return this.ended ? { kind: "end" } : undefined;
        }
        const content = literal.parts.length === 1 ? literal.parts[0]! : Buffer.concat(literal.parts, literal.size);
        this.segments.push({ text: literal.text, literal: content, binary: literal.binary });
        this.literal = null;
        continue;
      }

      const read = this.readLine();
      if (read === undefined) {
        if (!this.ended) return undefined;
        this.resetCommand();
        return { kind: "end" };
      }
      if ("overflow" in read) {
        const tag = this.segments.length > 0 ? this.commandTag(Buffer.alloc(0)) : read.tag;
        return this.failure(tag, "command line too long", false);
      }
      const line = read.line;
      if (line.length === 0 && this.segments.length === 0) continue; // a stray empty line between commands
      this.commandSize += line.length + 2;

      const match = LITERAL_AT_END.exec(line.toString("latin1", Math.max(0, line.length - 25)));
      if (!match) {
        if (this.commandSize > maxCommandSize) return this.failure(this.commandTag(line), "[TOOBIG] command too long", false);
        this.segments.push({ text: line });
        const parsed = parseCommand(this.segments);
        this.resetCommand();
        if ("request" in parsed) return { kind: "request", request: parsed.request };
        return { kind: "failure", failure: parsed.failure, fatal: false };
      }

      const size = Number(match[2]);
      const sync = match[3] !== "+";
      const tag = this.commandTag(line);
      if (size > maxLiteralSize || this.commandSize + size > maxCommandSize) {
        const what = size > maxLiteralSize ? "literal" : "command";
        return sync
          ? this.failure(tag, `[TOOBIG] ${what} too large (limit ${size > maxLiteralSize ? maxLiteralSize : maxCommandSize} octets)`, false)
          : this.failure(tag, `[TOOBIG] non-synchronising ${what} too large; closing`, true);
      }
      this.commandSize += size;
      this.literal = {
        text: line.subarray(0, line.length - match[0].length),
        size,
        binary: match[1] === "~",
        parts: [],
        got: 0,
      };
      if (sync) {
        try {
          this.options.continueLiteral();
        } catch {
          // the session's writer failed; the socket's end will follow
        }
      }
    }
  }
}
