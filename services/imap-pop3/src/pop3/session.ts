import { randomUUID } from "node:crypto";
import type { Socket } from "node:net";
import { TLSSocket, type SecureContext } from "node:tls";
import type { BlobStore } from "@postline/blobstore";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { Authenticator } from "@postline/auth";
import type { ChangeNotifier } from "../imap/server/core/op.ts";
import { COMMANDS } from "./commands/index.ts";
import { LineReader, type Line } from "./line-reader.ts";
import type { Maildrop } from "./maildrop.ts";
import type { Pop3Metrics } from "./metrics.ts";
import type { Pop3Settings } from "./settings.ts";

export interface Pop3Deps {
  db: Db;
  blobs: BlobStore;
  logger: Logger;
  authenticator: Authenticator;
  notifier: ChangeNotifier;
  tls: { current(): SecureContext };
  settings: Pop3Settings;
  metrics: Pop3Metrics;
}

/**
 * RFC 1939 states. AUTHORIZATION until a login succeeds; TRANSACTION while the client works on the
 * maildrop; UPDATE while QUIT applies the deletions; closed once the connection is gone (a
 * connection lost in TRANSACTION never reaches UPDATE: nothing is deleted).
 */
export type Pop3State = "authorization" | "transaction" | "update" | "closed";

export class SessionClosed extends Error {
  constructor() {
    super("the POP3 connection is closed");
    this.name = "SessionClosed";
  }
}

/** Lines waiting while a command runs; beyond this the socket stops being read (pipelining backpressure). */
const MAX_QUEUED_LINES = 64;
const GREETING = "+OK Postline POP3 server ready\r\n";

/**
 * One POP3 connection: reads lines, runs one command at a time in arrival order (PIPELINING), and
 * writes each reply with the socket's backpressure. Commands live in ./commands/, one file a family.
 */
export class Pop3Session {
  readonly id = randomUUID();
  readonly clientIp: string;
  readonly logger: Logger;
  state: Pop3State = "authorization";
  secure: boolean;
  /** USER given, waiting for PASS. */
  user: string | undefined;
  account: { id: number; address: string } | undefined;
  maildrop: Maildrop | undefined;
  /** AUTH PLAIN sent "+ ": the next line is the client's response. */
  onSaslResponse: ((line: Line) => Promise<void>) | undefined;

  private socket: Socket;
  private readonly reader: LineReader;
  private readonly queue: Line[] = [];
  private busy = false;
  private paused = false;
  private badCommands = 0;
  private closedResolve!: () => void;
  /** Resolves when the connection is gone. */
  readonly closed = new Promise<void>((resolve) => (this.closedResolve = resolve));

  constructor(
    raw: Socket,
    readonly deps: Pop3Deps,
    private readonly implicitTls: boolean,
  ) {
    this.socket = raw;
    this.secure = false;
    this.clientIp = raw.remoteAddress ?? "unknown";
    this.logger = deps.logger.child({ pop3Session: this.id, ip: this.clientIp });
    this.reader = new LineReader(deps.settings.maxSaslLength);
  }

  /** Greets (after the handshake on the implicit TLS port) and starts reading commands. */
  start(): void {
    const raw = this.socket;
    raw.on("close", () => this.onClose());
    raw.on("error", (err) => this.logger.debug({ err }, "pop3 connection error"));
    if (this.implicitTls) {
      const tls = this.wrapTls(raw);
      tls.once("secure", () => void this.reply(GREETING).catch(() => undefined));
    } else {
      this.attach(raw);
      void this.reply(GREETING).catch(() => undefined);
    }
  }

  get idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  // ---- output

  /** Writes and, when the socket's buffer is full, waits until it drains. */
  async write(data: string | Buffer): Promise<void> {
    if (this.state === "closed" || this.socket.destroyed) throw new SessionClosed();
    if (this.socket.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const socket = this.socket;
      const done = (err?: Error) => {
        socket.off("drain", onDrain);
        socket.off("close", onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new SessionClosed());
      socket.on("drain", onDrain);
      socket.on("close", onClose);
    });
  }

  /** A one-line reply; `text` is the whole line without CRLF or with it. */
  async reply(text: string): Promise<void> {
    await this.write(text.endsWith("\r\n") ? text : `${text}\r\n`);
  }

  ok(text = ""): Promise<void> {
    return this.reply(text ? `+OK ${text}` : "+OK");
  }

  err(text: string): Promise<void> {
    return this.reply(`-ERR ${text}`);
  }

  /** A multi-line reply whose lines need no byte-stuffing check by the caller. */
  async multiline(first: string, lines: string[]): Promise<void> {
    const body = lines.map((l) => (l.startsWith(".") ? `.${l}\r\n` : `${l}\r\n`)).join("");
    await this.write(`+OK ${first}\r\n${body}.\r\n`);
  }

  /** A command the client should not have sent; too many of them end the session. */
  async bad(text: string): Promise<void> {
    this.badCommands++;
    if (this.badCommands >= this.deps.settings.maxBadCommands) {
      await this.err(`${text}; too many bad commands, closing`).catch(() => undefined);
      this.close();
      return;
    }
    await this.err(text);
  }

  /** Ends the connection after what was written is sent. */
  close(lingerMs = 5_000): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.queue.length = 0;
    const socket = this.socket;
    socket.end();
    setTimeout(() => socket.destroy(), lingerMs).unref();
  }

  /** Shutdown after the grace period: a session between commands is told why; one inside a command just ends. */
  shutdown(): void {
    if (this.state === "closed") return;
    if (this.idle && !this.onSaslResponse) {
      this.socket.write("-ERR [SYS/TEMP] Server shutting down\r\n");
      this.close(1_000);
    } else {
      this.state = "closed";
      this.socket.destroy();
    }
  }

  // ---- STLS

  /**
   * RFC 2595 STLS: the +OK goes out in plaintext, then the handshake. Anything the client sent
   * after STLS in plaintext is discarded, so it cannot be injected into the protected session.
   */
  async startTls(): Promise<void> {
    const raw = this.socket;
    await new Promise<void>((resolve, reject) => raw.write("+OK Begin TLS negotiation\r\n", (err) => (err ? reject(err) : resolve())));
    this.detach(raw);
    this.reader.clear();
    this.queue.length = 0;
    const tls = this.wrapTls(raw);
    await new Promise<void>((resolve) => {
      tls.once("secure", resolve);
      tls.once("close", resolve);
    });
  }

  private wrapTls(raw: Socket): TLSSocket {
    const tls = new TLSSocket(raw, { isServer: true, secureContext: this.deps.tls.current() });
    tls.on("error", (err) => {
      this.logger.debug({ err }, "pop3 TLS error");
      tls.destroy();
    });
    tls.once("secure", () => {
      this.secure = true;
    });
    this.attach(tls);
    return tls;
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.setTimeout(this.deps.settings.idleTimeoutMs);
    socket.on("data", this.onData);
    socket.on("timeout", this.onTimeout);
    socket.on("close", () => this.onClose());
  }

  private detach(socket: Socket): void {
    socket.setTimeout(0);
    socket.off("data", this.onData);
    socket.off("timeout", this.onTimeout);
  }

  // ---- input

  private readonly onData = (chunk: Buffer): void => {
    if (this.state === "closed") return;
    for (const line of this.reader.push(chunk)) this.queue.push(line);
    if (this.queue.length >= MAX_QUEUED_LINES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.drain();
  };

  private readonly onTimeout = (): void => {
    this.logger.debug("pop3 idle timeout");
    if (this.idle) this.socket.write("-ERR Autologout; idle for too long\r\n");
    // A session timed out in TRANSACTION never enters UPDATE: nothing is deleted.
    this.close();
  };

  private onClose(): void {
    if (this.state !== "closed") this.state = "closed";
    this.queue.length = 0;
    this.closedResolve();
  }

  private async drain(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && this.state !== "closed") {
        const line = this.queue.shift()!;
        try {
          await this.handle(line);
        } catch (err) {
          if (err instanceof SessionClosed) break;
          this.logger.error({ err }, "pop3 command failed");
          await this.err("[SYS/TEMP] Internal error").catch(() => undefined);
        }
      }
    } finally {
      this.busy = false;
      if (this.paused && this.state !== "closed") {
        this.paused = false;
        this.socket.resume();
      }
    }
  }

  private async handle(line: Line): Promise<void> {
    const sasl = this.onSaslResponse;
    if (sasl) {
      this.onSaslResponse = undefined;
      await sasl(line);
      return;
    }
    if (line.overlong || line.text.length > this.deps.settings.maxCommandLength) {
      this.deps.metrics.commands.inc({ command: "unknown" });
      await this.bad("Line too long");
      return;
    }
    const text = line.text.toString("utf8");
    const m = /^([A-Za-z]{3,4})(?: (.*))?$/.exec(text);
    const keyword = m?.[1]!.toUpperCase();
    const command = keyword !== undefined ? COMMANDS[keyword] : undefined;
    this.deps.metrics.commands.inc({ command: command ? keyword! : "unknown" });
    if (!m || !command) {
      await this.bad("Unknown command");
      return;
    }
    if (!command.states.includes(this.state)) {
      await this.bad(`${keyword} is not valid in this state`);
      return;
    }
    const end = this.deps.metrics.commandSeconds.startTimer({ command: keyword! });
    try {
      await command.run(this, m[2] ?? "");
    } finally {
      end();
    }
  }
}
