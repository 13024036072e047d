import type { Socket } from "node:net";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import type { SMTPStream } from "smtp-server/lib/smtp-stream.js";
import type { Logger } from "@postline/telemetry";
import { commandLabel } from "./metrics.ts";
import { ENHANCED_PREFIX } from "@postline/smtp";
import type { MxServer } from "./server.ts";

/** What sessions still open when a shutdown's grace period ends (or that send a command during it) get with 421. */
const SHUTTING_DOWN = "4.3.2 Server shutting down";

/**
 * One SMTP session of the MX: smtp-server's connection with the MX's own rules on top.
 *
 * - No fixed sleep before the greeting. smtp-server waits 100 ms before every greeting and drops a
 *   client that talks first (`421 You talk too soon`); here the greeting goes out as soon as the
 *   connect checks are done (plus the pregreet wait for addresses that have not passed it, see
 *   PregreetGate), and a client that talks first is only marked EARLY_TALKER: its commands are held
 *   and answered after the greeting.
 * - Limits: connections per client address and in total (`421 4.7.0` at connect), commands per
 *   session (`421 4.7.0`), command line length (`500 5.5.2`, then the connection is closed), whole
 *   session time (`421 4.4.2`; a message being committed is finished first).
 * - Replies whose text starts with an enhanced status code are sent with that code, not with
 *   smtp-server's guess from the basic code (which would turn a relay refusal into 554 5.6.0).
 */
export class MxConnection extends SMTPConnection {
  startedAt = 0;
  earlyTalker = false;
  /** The greeting waited for the pregreet test (the address had not passed it recently). */
  pregreetWaited = false;
  /** Anti-spam symbols decided during this session, carried into each message's event. */
  readonly symbols = new Set<string>();
  /** Forward-confirmed reverse DNS name of the client, when it has one. */
  confirmedHostname: string | undefined;
  log!: Logger;
  /** The DATA commit in flight (blob store, then bus), if any. */
  committing: Promise<unknown> | undefined;

  private commands = 0;
  private greeted = false;
  private tracked = false;
  private expireAfterCommit = false;
  private sessionTimer: NodeJS.Timeout | undefined;
  private heldCommand: { command: Buffer; callback?: () => void } | undefined;
  private readonly onEarlyData = () => {
    this.earlyTalker = true;
  };

  get mx(): MxServer {
    return this._server as unknown as MxServer;
  }

  override init(): void {
    const mx = this.mx;
    this.startedAt = Date.now();
    this.log = mx.log.child({ session: this.id, ip: this.remoteAddress });
    this.tracked = true;
    mx.trackConnection(this);
    // Anything the client sends before our greeting makes it an early talker.
    this._socket.on("data", this.onEarlyData);
    this._setListeners(() => {
      const refusal = mx.admissionRefusal(this);
      if (refusal) {
        mx.metrics.sessions.inc({ result: refusal.reason });
        this.log.info({ reason: refusal.reason }, "connection refused");
        this.send(421, refusal.text, false);
        return;
      }
      mx.metrics.sessions.inc({ result: "accepted" });
      this.sessionTimer = setTimeout(() => this.expire(), mx.settings.POSTLINE_MX_SESSION_TIMEOUT_MS);
      this.sessionTimer.unref();
      this.connectionReady();
    });
  }

  override _sendGreeting(): void {
    if (!this.greeted) {
      this.greeted = true;
      this._socket.off("data", this.onEarlyData);
      this.mx.greeted(this);
    }
    super._sendGreeting();
    const held = this.heldCommand;
    if (held) {
      this.heldCommand = undefined;
      setImmediate(() => this._onCommand(held.command, held.callback));
    }
  }

  override _onCommand(command: Buffer, callback?: () => void): void {
    if (!this._ready && !this._closing && !this._upgrading) {
      // Talking before the greeting: remember it, answer after the greeting. The parser waits
      // for the callback, so nothing else is read meanwhile.
      this.earlyTalker = true;
      this.heldCommand = { command, callback };
      return;
    }
    if (this._ready && !this._upgrading && !this._closing) {
      this.commands++;
      this.mx.metrics.commands.inc({ command: commandLabel(command) });
      if (this.commands > this.mx.settings.POSTLINE_MX_MAX_COMMANDS) {
        this.log.info({ commands: this.commands }, "too many commands, closing");
        this.send(421, "4.7.0 Error: too many commands, closing connection", false);
        return;
      }
    }
    super._onCommand(command, callback);
  }

  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (code === 421 && data === "Server shutting down") data = SHUTTING_DOWN; // smtp-server's, with RFC 3463's code
    if (typeof data === "string" && ENHANCED_PREFIX.test(data)) context = false;
    if (!this._socket.destroyed) this.mx.metrics.replies.inc({ code: String(code) });
    super.send(code, data, context);
  }

  override _createParser(): SMTPStream {
    const parser = super._createParser();
    parser.removeAllListeners("error");
    parser.on("error", (err: Error) => {
      // The parser cannot continue after an error, so the connection ends either way.
      if (/too long/i.test(err.message)) {
        this.send(500, "5.5.2 Error: line too long", false);
        this.close();
      } else {
        this.send(421, `4.3.0 Error: ${err.message}`, false);
      }
    });
    return parser;
  }

  override _onClose(): void {
    if (this.tracked) {
      this.tracked = false;
      clearTimeout(this.sessionTimer);
      this.mx.untrackConnection(this);
    }
    super._onClose();
  }

  /** Runs `work` as this session's DATA commit; a session that expires meanwhile ends after it. */
  async commit<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    this.committing = p;
    try {
      return await p;
    } finally {
      this.committing = undefined;
      if (this.expireAfterCommit) setImmediate(() => this.expire());
    }
  }

  addSymbol(symbol: string): void {
    if (this.symbols.has(symbol)) return;
    this.symbols.add(symbol);
    this.mx.metrics.sessionSymbols.inc({ symbol });
  }

  get rawSocket(): Socket {
    return this._socket;
  }

  private expire(): void {
    if (this._closing || this._closed) return;
    if (this.committing) {
      this.expireAfterCommit = true;
      return;
    }
    this.log.info("session time limit reached, closing");
    this.send(421, "4.4.2 Error: session time limit exceeded, closing connection", false);
  }
}
