import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import { TLSSocket, type SecureContext } from "node:tls";
import type { BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { Authenticator } from "@postline/auth";
import { decodeSaslPlain } from "@postline/auth";
import { commandLabel, type ImapMetrics } from "../../metrics.ts";
import type { ImapSettings } from "../../settings.ts";
import { CommandReceiver } from "../protocol/receiver.ts";
import type { Command, Request } from "../protocol/types.ts";
import { sessionCapabilities } from "./capabilities.ts";
import type {
  AuthenticatedAccount,
  ChangeNotifier,
  ImapLimits,
  ResponseSink,
  SelectedMailbox,
  SessionContext,
  SessionState,
  TaggedResult,
} from "./core/op.ts";
import { commandClass, opFor } from "./op/index.ts";

/** Where STARTTLS and implicit TLS get the certificate in use now (replaced when the files change). */
export interface TlsProvider {
  current(): SecureContext;
}

export interface SessionDeps {
  db: Db;
  blobs: BlobStore;
  bus: Bus;
  logger: Logger;
  notifier: ChangeNotifier;
  authenticator: Authenticator;
  metrics: ImapMetrics;
  settings: ImapSettings;
  tls: TlsProvider;
}

/** Pause reading when this much input waits and no command is being read (pipelined floods). */
const READ_HIGH_WATER = 256 * 1024;
const TLS_HANDSHAKE_TIMEOUT_MS = 15_000;
/** Headroom of one command over its literals (the lines around an APPEND literal). */
const COMMAND_OVERHEAD = 64 * 1024;
/** Before login nothing needs a large literal (a password, a SASL response): an anonymous client cannot make us hold more. */
const PREAUTH_LITERAL_LIMIT = 8 * 1024;
/** Output held back during a command is written once it reaches this many octets (and at the command's end). */
const BATCH_FLUSH = 64 * 1024;
/**
 * Commands after which the selected mailbox is always read from the store: the ones clients use to
 * poll for news. After other commands the view reads the store only when a change was notified (or
 * its last look is older than MailboxView's bound).
 */
const FRESH_SYNC = new Set<Command["name"]>(["NOOP", "CHECK"]);

class ConnectionClosed extends Error {
  constructor() {
    super("connection closed");
    this.name = "ConnectionClosed";
  }
}

const isLoopback = (ip: string) => ip === "::1" || ip.startsWith("127.");

/**
 * One IMAP connection: not-authenticated → authenticated ⇄ selected → logout (RFC 9051 3).
 *
 * Commands are read one at a time with the CommandReceiver and executed strictly in order, so
 * pipelined commands are answered in the order they came. The session runs the commands that
 * change the connection itself (STARTTLS, LOGIN, AUTHENTICATE, IDLE, LOGOUT); every other command
 * is an op (./op/). After each command the selected mailbox's pending updates are written before
 * the tagged reply (without EXPUNGE after FETCH, STORE and SEARCH, RFC 9051 7.5.1).
 */
export class ImapSession implements SessionContext {
  readonly id = randomBytes(6).toString("base64url");
  state: SessionState = "not-authenticated";
  account?: AuthenticatedAccount;
  selected?: SelectedMailbox;
  readonly enabled = new Set<string>();
  savedSearch: number[] = [];
  /** The tag of the command being executed (ESEARCH's `(TAG "a1")`). */
  tag?: string;
  readonly clientIp: string;
  readonly db: Db;
  readonly blobs: BlobStore;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly notifier: ChangeNotifier;
  readonly settings: ImapLimits;

  private socket: Socket;
  private secure: boolean;
  private readonly receiver: CommandReceiver;
  private readonly out: ResponseSink;
  private closed = false;
  private stopping = false;
  /** Waiting for the client (a command, an AUTHENTICATE response or IDLE's DONE): shutdown may close now. */
  private waitingForClient = false;
  private idling = false;
  /** A body stream failed after its literal prefix went out: the client's parser is out of step; only closing helps. */
  private outputBroken = false;
  private badCommands = 0;
  /**
   * While a command runs its output is gathered here and written with one socket write (writev) at
   * its end, or when it grows past BATCH_FLUSH, instead of one write (one syscall, one TLS record)
   * per piece. Anything that waits for the client flushes first.
   */
  private batching = false;
  private batch: Array<string | Buffer> = [];
  private batchBytes = 0;
  private authFailures = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer) => this.received(chunk);
  private readonly onEnd = () => this.receiver.end();
  private readonly onClose = () => this.closedByPeer();
  private readonly onError = (err: Error) => this.logger.debug({ err, session: this.id }, "IMAP connection error");
  private resolveDone!: () => void;
  /** Resolves when the connection is closed and the session cleaned up. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(
    socket: Socket,
    private readonly deps: SessionDeps,
    options: { secure: boolean; clientIp: string },
  ) {
    this.socket = socket;
    this.secure = options.secure;
    this.clientIp = options.clientIp;
    this.db = deps.db;
    this.blobs = deps.blobs;
    this.bus = deps.bus;
    this.logger = deps.logger;
    this.notifier = deps.notifier;
    this.settings = { appendLimit: deps.settings.POSTLINE_IMAP_APPEND_LIMIT };
    this.receiver = new CommandReceiver({
      maxLineLength: deps.settings.POSTLINE_IMAP_MAX_LINE_LENGTH,
      maxLiteralSize: PREAUTH_LITERAL_LIMIT,
      maxCommandSize: PREAUTH_LITERAL_LIMIT + COMMAND_OVERHEAD,
      continueLiteral: () => this.write("+ Ready for literal data\r\n"),
    });
    this.out = {
      write: (chunk) => this.write(chunk),
      stream: (body) => this.stream(body),
    };
    this.attach();
  }

  get tls(): boolean {
    return this.secure;
  }

  /** LOGIN and AUTHENTICATE without TLS: only with POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH, and only from loopback. */
  get plaintextAuthAllowed(): boolean {
    return this.deps.settings.POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH && isLoopback(this.clientIp);
  }

  private get authAllowed(): boolean {
    return this.secure || this.plaintextAuthAllowed;
  }

  /** Greets and serves the client until LOGOUT, an error, a timeout or shutdown. */
  async run(): Promise<void> {
    try {
      this.write(`* OK [CAPABILITY ${sessionCapabilities(this)}] Postline IMAP ready\r\n`);
      while (!this.closed) {
        const received = await this.read(() => this.receiver.next());
        if (this.closed || received.kind === "end") break;
        if (received.kind === "failure") {
          // RFC 9051 6.4.4: an unsupported SEARCH charset is NO [BADCHARSET], not a syntax error
          const status = received.failure.tag !== null && received.failure.text.startsWith("[BADCHARSET") ? "NO" : "BAD";
          this.write(`${received.failure.tag ?? "*"} ${status} ${received.failure.text}\r\n`);
          if (received.fatal) {
            this.bye("Command too long or malformed");
            break;
          }
          if (this.countBad()) break;
          continue;
        }
        const keepGoing = await this.execute(received.request);
        if (!keepGoing || this.closed) break;
        if (this.stopping) {
          this.bye("Server shutting down");
          break;
        }
        await this.drained();
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) this.logger.error({ err, session: this.id }, "IMAP session failed");
    } finally {
      this.close();
    }
  }

  /** Server shutdown: a session waiting for its client gets BYE at once; one running a command gets it after the command. */
  shutdown(): void {
    this.stopping = true;
    if (this.waitingForClient) {
      this.bye("Server shutting down");
      this.close();
    }
  }

  /** Ends the connection now (after the grace period of a shutdown). */
  destroy(): void {
    this.close();
    this.socket.destroy();
  }

  // ---- commands ----

  /** Runs one command; false when the session ends with it. */
  private async execute(request: Request): Promise<boolean> {
    const { tag, command } = request;
    this.tag = tag;
    const label = commandLabel(command.name, "uid" in command && command.uid === true);
    const started = performance.now();
    let result: TaggedResult | null;
    let keepGoing = true;
    this.batching = true;
    try {
      const refused = this.stateCheck(command);
      if (refused) result = refused;
      else {
        switch (command.name) {
          case "LOGOUT":
            this.write("* BYE Postline IMAP logging out\r\n");
            this.write(`${tag} OK LOGOUT completed\r\n`);
            this.flush();
            this.state = "logout";
            result = null;
            keepGoing = false;
            break;
          case "STARTTLS":
            result = await this.startTls(tag);
            break;
          case "LOGIN":
            result = await this.login(command.user, command.password);
            break;
          case "AUTHENTICATE":
            result = await this.authenticate(command.mechanism, command.initialResponse);
            break;
          case "IDLE":
            result = await this.idle();
            break;
          default: {
            const op = opFor(command)!;
            result = await op(this, command, this.out);
            break;
          }
        }
      }
      if (result && result.status !== "BAD" && this.selected && !this.closed) {
        const noExpunges = (command.name === "FETCH" || command.name === "STORE" || command.name === "SEARCH") && !command.uid;
        await this.selected.sync(this.out, { expunges: !noExpunges, ifChanged: !FRESH_SYNC.has(command.name) });
      }
    } catch (err) {
      if (err instanceof ConnectionClosed || this.closed) throw new ConnectionClosed();
      this.logger.error({ err, session: this.id, command: command.name }, "IMAP command failed");
      if (this.outputBroken) {
        this.socket.destroy();
        throw new ConnectionClosed();
      }
      result = { status: "NO", code: "SERVERBUG", text: "internal server error; the command may not have been completed" };
    }
    if (this.closed) throw new ConnectionClosed();
    if (result) {
      this.write(`${tag} ${result.status}${result.code ? ` [${result.code}]` : ""} ${result.text}\r\n`);
      this.flush();
      this.deps.metrics.commands.inc({ command: label, status: result.status });
      this.deps.metrics.commandSeconds.observe({ command: label }, (performance.now() - started) / 1000);
      if (result.status === "BAD" && this.countBad()) return false;
      if (this.authFailures >= this.deps.settings.POSTLINE_IMAP_MAX_AUTH_FAILURES) {
        this.bye("Too many failed authentications");
        return false;
      }
    }
    return keepGoing && !this.closed;
  }

  /** BAD (or NO) for a command the current state does not allow (RFC 9051 6). */
  private stateCheck(command: Command): TaggedResult | null {
    const cls = commandClass[command.name];
    const authenticated = this.state === "authenticated" || this.state === "selected";
    switch (cls) {
      case "any":
        return null;
      case "not-authenticated":
        if (authenticated) return { status: "BAD", text: `${command.name} is not valid after authentication` };
        if (command.name === "STARTTLS" && this.secure) return { status: "BAD", text: "TLS is active already" };
        return null;
      case "authenticated":
        return authenticated ? null : { status: "BAD", text: `${command.name} needs authentication first` };
      case "authenticated-only":
        if (!authenticated) return { status: "BAD", text: `${command.name} needs authentication first` };
        return this.state === "selected" ? { status: "BAD", text: `${command.name} is only valid in the authenticated state` } : null;
      case "selected":
        if (!authenticated) return { status: "BAD", text: `${command.name} needs authentication first` };
        return this.state === "selected" ? null : { status: "BAD", text: "no mailbox selected" };
    }
  }

  private async startTls(tag: string): Promise<TaggedResult | null> {
    this.write(`${tag} OK Begin TLS negotiation now\r\n`);
    this.flush();
    const raw = this.socket;
    this.detach();
    // Anything the client sent after STARTTLS and before the handshake is discarded (injection defence).
    this.receiver.reset();
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.deps.tls.current() });
    this.socket = secure;
    this.secure = true;
    try {
      await handshake(secure);
    } catch (err) {
      this.logger.debug({ err, session: this.id }, "STARTTLS handshake failed");
      this.attach();
      throw new ConnectionClosed();
    }
    this.attach();
    return null;
  }

  private async login(user: string, password: string): Promise<TaggedResult> {
    if (!this.authAllowed) {
      this.deps.metrics.authFailures.inc({ reason: "plaintext" });
      return { status: "NO", code: "PRIVACYREQUIRED", text: "LOGIN is disabled until STARTTLS" };
    }
    return this.finishLogin(user, password);
  }

  /** AUTHENTICATE PLAIN (RFC 4616) with SASL-IR (RFC 4959) or a continuation; `*` cancels. */
  private async authenticate(mechanism: string, initialResponse: string | undefined): Promise<TaggedResult> {
    if (mechanism.toUpperCase() !== "PLAIN") return { status: "NO", text: `unsupported authentication mechanism ${mechanism.slice(0, 40)}` };
    if (!this.authAllowed) {
      this.deps.metrics.authFailures.inc({ reason: "plaintext" });
      return { status: "NO", code: "PRIVACYREQUIRED", text: "authentication is disabled until STARTTLS" };
    }
    let response = initialResponse;
    if (response === undefined) {
      this.write("+ \r\n");
      const line = await this.read(() => this.receiver.nextLine());
      if (line === null) throw new ConnectionClosed();
      response = line.trim();
    }
    if (response === "*") return { status: "BAD", text: "authentication cancelled" };
    const creds = response === "=" ? null : decodeSaslPlain(response);
    if (!creds) return { status: "BAD", text: "invalid SASL PLAIN response" };
    if (creds.authzid && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) {
      this.authFailures++;
      this.deps.metrics.authFailures.inc({ reason: "authzid" });
      return { status: "NO", code: "AUTHORIZATIONFAILED", text: "cannot act as another user" };
    }
    return this.finishLogin(creds.authcid, creds.password);
  }

  private async finishLogin(user: string, password: string): Promise<TaggedResult> {
    const result = await this.deps.authenticator.login(user, password, this.clientIp, "imap");
    if (result.ok) {
      this.account = result.account;
      this.state = "authenticated";
      const appendLimit = this.deps.settings.POSTLINE_IMAP_APPEND_LIMIT;
      this.receiver.setLimits({ maxLiteralSize: appendLimit, maxCommandSize: appendLimit + COMMAND_OVERHEAD });
      this.logger.info({ session: this.id, account: result.account.address, ip: this.clientIp, tls: this.secure }, "IMAP login");
      return { status: "OK", code: `CAPABILITY ${sessionCapabilities(this)}`, text: "Logged in" };
    }
    this.authFailures++;
    this.deps.metrics.authFailures.inc({ reason: result.reason });
    if (result.reason === "throttled") {
      // Slow the guesser down a little more; the lockout itself is the authenticator's.
      await sleep(Math.min(result.retryAfterMs ?? 1000, 3000));
      return { status: "NO", code: "UNAVAILABLE", text: "too many failed logins; try again later" };
    }
    return { status: "NO", code: "AUTHENTICATIONFAILED", text: "Authentication failed" };
  }

  /**
   * IDLE (RFC 2177): `+ idling`, then the selected mailbox's changes as they happen (woken by the
   * notifier, and re-read every POSTLINE_IMAP_IDLE_POLL_MS in case a notification was lost) until
   * DONE. An IDLE longer than POSTLINE_IMAP_IDLE_MAX_MS ends the session with BYE.
   */
  private async idle(): Promise<TaggedResult | null> {
    this.write("+ idling\r\n");
    const selected = this.selected;
    let syncing: Promise<void> | null = null;
    let again = false;
    const sync = () => {
      if (!selected || this.closed) return;
      if (syncing) {
        again = true;
        return;
      }
      syncing = (async () => {
        do {
          again = false;
          try {
            await selected.sync(this.out, { expunges: true });
          } catch (err) {
            if (!this.closed) this.logger.warn({ err, session: this.id }, "IDLE update failed");
          }
        } while (again && !this.closed);
        syncing = null;
      })();
    };
    const unwatch = selected ? this.notifier.watch(selected.mailboxId, sync) : () => {};
    const poll = setInterval(sync, this.deps.settings.POSTLINE_IMAP_IDLE_POLL_MS);
    const limit = setTimeout(() => {
      this.bye("IDLE for too long");
      this.close();
    }, this.deps.settings.POSTLINE_IMAP_IDLE_MAX_MS);
    this.idling = true;
    // Changes made between the last command and now.
    sync();
    let line: string | null;
    try {
      line = await this.read(() => this.receiver.nextLine());
    } finally {
      this.idling = false;
      unwatch();
      clearInterval(poll);
      clearTimeout(limit);
      await (syncing as Promise<void> | null);
    }
    if (line === null || this.closed) throw new ConnectionClosed();
    if (line.trim().toUpperCase() !== "DONE") return { status: "BAD", text: "expected DONE" };
    return { status: "OK", text: "IDLE terminated" };
  }

  // ---- connection ----

  private attach(): void {
    this.socket.on("data", this.onData);
    this.socket.on("end", this.onEnd);
    this.socket.on("close", this.onClose);
    this.socket.on("error", this.onError);
    this.armTimer();
  }

  private detach(): void {
    this.socket.off("data", this.onData);
    this.socket.off("end", this.onEnd);
    this.socket.off("close", this.onClose);
    // Keep an error listener: an error now must not become an uncaught exception.
    clearTimeout(this.idleTimer);
  }

  private received(chunk: Buffer): void {
    this.armTimer();
    this.receiver.push(chunk);
    if (!this.receiver.waiting && this.receiver.buffered > READ_HIGH_WATER) this.socket.pause();
  }

  /** Awaits client input with reading resumed; shutdown may close the session meanwhile. */
  private async read<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new ConnectionClosed();
    // The client answers what it has seen: everything held back goes out, and output is direct until the next command.
    this.flush();
    this.batching = false;
    this.waitingForClient = true;
    // The clock for the client's silence starts now, with the limit of the current state.
    this.armTimer();
    const pending = call();
    if (this.socket.isPaused()) this.socket.resume();
    try {
      return await pending;
    } finally {
      this.waitingForClient = false;
    }
  }

  private armTimer(): void {
    clearTimeout(this.idleTimer);
    if (this.closed) return;
    const authenticated = this.state === "authenticated" || this.state === "selected";
    const ms = authenticated ? this.deps.settings.POSTLINE_IMAP_IDLE_TIMEOUT_MS : this.deps.settings.POSTLINE_IMAP_PREAUTH_TIMEOUT_MS;
    this.idleTimer = setTimeout(() => this.timedOut(), ms);
    this.idleTimer.unref();
  }

  private timedOut(): void {
    if (this.idling) return; // IDLE has its own limit
    if (!this.waitingForClient) {
      this.armTimer(); // a command is still running (e.g. streaming to a slow reader)
      return;
    }
    this.bye("Autologout; idle for too long");
    this.close();
  }

  private write(chunk: string | Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    if (!this.batching) {
      this.socket.write(chunk);
      return;
    }
    this.batch.push(chunk);
    this.batchBytes += chunk.length;
    if (this.batchBytes >= BATCH_FLUSH) this.flush();
  }

  /** Writes the held-back output: one write, or a corked series (one writev). */
  private flush(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.batchBytes = 0;
    const socket = this.socket;
    if (this.closed || socket.destroyed) return;
    if (batch.length === 1) {
      socket.write(batch[0]!);
      return;
    }
    socket.cork();
    for (const chunk of batch) socket.write(chunk);
    socket.uncork();
  }

  private async stream(body: Readable): Promise<void> {
    try {
      for await (const chunk of body) {
        if (this.closed || this.socket.destroyed) throw new ConnectionClosed();
        this.write(chunk as Buffer);
        if (this.socket.writableNeedDrain) {
          this.flush();
          await this.drained();
        }
      }
    } catch (err) {
      if (!(err instanceof ConnectionClosed)) this.outputBroken = true;
      throw err;
    } finally {
      body.destroy();
    }
  }

  /** Resolves once the socket's write buffer drained (or the connection closed). */
  private drained(): Promise<void> {
    const socket = this.socket;
    if (!socket.writableNeedDrain || this.closed) return this.closed ? Promise.reject(new ConnectionClosed()) : Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        socket.off("drain", done);
        socket.off("close", done);
        if (this.closed || socket.destroyed) reject(new ConnectionClosed());
        else resolve();
      };
      socket.on("drain", done);
      socket.on("close", done);
    });
  }

  private bye(text: string): void {
    this.write(`* BYE ${text}\r\n`);
    this.flush();
  }

  /** Counts a BAD reply; true (after BYE) when the session had too many. */
  private countBad(): boolean {
    this.badCommands++;
    if (this.badCommands < this.deps.settings.POSTLINE_IMAP_MAX_BAD_COMMANDS) return false;
    this.bye("Too many invalid commands");
    this.close();
    return true;
  }

  private closedByPeer(): void {
    this.receiver.end();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    // What the last command wrote (e.g. LOGOUT's BYE and OK) goes out before the end.
    this.flush();
    this.batching = false;
    this.closed = true;
    this.state = "logout";
    clearTimeout(this.idleTimer);
    try {
      this.selected?.close();
    } catch (err) {
      this.logger.warn({ err, session: this.id }, "closing the selected mailbox failed");
    }
    this.selected = undefined;
    this.receiver.end();
    const socket = this.socket;
    if (!socket.destroyed) {
      socket.end();
      // A client that does not read must not keep the socket open.
      setTimeout(() => socket.destroy(), 5_000).unref();
    }
    this.resolveDone();
  }
}

function handshake(socket: TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(new Error("TLS handshake timed out"));
    }, TLS_HANDSHAKE_TIMEOUT_MS);
    const onSecure = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error("connection closed during the TLS handshake"));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off("secure", onSecure);
      socket.off("error", onError);
      socket.off("close", onClose);
    };
    socket.once("secure", onSecure);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

export { handshake as tlsHandshake };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
