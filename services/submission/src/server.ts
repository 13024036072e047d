import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { SMTPServer, type SMTPServerAddress, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import { SMTPConnection } from "smtp-server/lib/smtp-connection.js";
import type { Authenticator } from "@postline/auth";
import type { BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import { submitMessage } from "./message.ts";
import { mechanismLabel, type SubmissionMetrics } from "./metrics.ts";
import type { HourlyLimit } from "./rate.ts";
import { ENHANCED_PREFIX, SmtpReply } from "@postline/smtp";
import { ownsAddress, type AuthUser } from "./senders.ts";
import type { SubmissionSettings } from "./settings.ts";

export interface SubmissionDeps {
  settings: SubmissionSettings;
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  metrics: SubmissionMetrics;
  authenticator: Authenticator;
  limit: HourlyLimit;
}

type Callback = (err?: Error | null) => void;

/** What sessions still open when a shutdown's grace period ends (or that send a command during it) get with 421. */
const SHUTTING_DOWN = "4.3.2 Server shutting down";

/**
 * smtp-server's connection, sending replies whose text starts with an enhanced status code with
 * that code, and not advertising AUTH in the EHLO reply before TLS (smtp-server would, and then
 * refuse it with 538; RFC 4954 4: no mechanism may be offered that the server would refuse).
 */
class SubmissionConnection extends SMTPConnection {
  override send(code: number, data?: string | string[] | null, context?: string | false): void {
    if (code === 421 && data === "Server shutting down") data = SHUTTING_DOWN; // smtp-server's, with RFC 3463's code
    if (typeof data === "string" && ENHANCED_PREFIX.test(data)) context = false;
    if (code === 250 && Array.isArray(data) && !this.secure) data = data.filter((line) => !/^AUTH /i.test(line));
    if (!this._socket.destroyed) (this._server as unknown as SubmissionServer).deps.metrics.replies.inc({ code: String(code) });
    super.send(code, data, context);
  }

  private counted = true;

  override _onClose(): void {
    if (this.counted) {
      this.counted = false;
      (this._server as unknown as SubmissionServer).deps.metrics.activeSessions.dec();
    }
    super._onClose();
  }
}

const temporary = () => new SmtpReply(451, "4.3.0", "Error: temporary local problem, try again later", "internal");

/**
 * Message submission (RFC 6409) on smtp-server: AUTH (PLAIN, LOGIN; only over TLS) before any mail
 * transaction, the envelope sender must belong to the account (its address or an alias of it), the
 * hourly limit is checked at MAIL FROM, and DATA goes through ./message.ts.
 */
export class SubmissionServer extends SMTPServer {
  readonly deps: SubmissionDeps;
  private readonly commits = new Set<Promise<unknown>>();

  constructor(options: SMTPServerOptions, deps: SubmissionDeps) {
    super(options);
    this.deps = deps;
    this.on("error", (err: Error & { code?: string }) => deps.logger.debug({ err: { message: err.message, code: err.code } }, "smtp session error"));
  }

  override connect(socket: Socket, socketOptions?: ConstructorParameters<typeof SMTPConnection>[2]): void {
    const connection = new SubmissionConnection(this, socket, socketOptions);
    this.deps.metrics.sessions.inc();
    this.deps.metrics.activeSessions.inc();
    this.connections.add(connection);
    connection.on("error", (err: Error) => this._onError(err));
    connection.on("connect", (data) => this._onClientConnect(data));
    connection.init();
  }

  override onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession, callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void): void {
    const invalid = () => {
      this.deps.metrics.authFailures.inc({ mechanism: mechanismLabel(auth.method) });
      callback(new SmtpReply(535, "5.7.8", "Error: authentication credentials invalid", "invalid"));
    };
    const name = auth.method === "PLAIN" ? auth.authcid || auth.username : auth.username;
    // PLAIN with an authorisation identity other than the login: acting for someone else is not offered.
    if (auth.method === "PLAIN" && auth.authzid && auth.authcid && auth.authzid.toLowerCase() !== auth.authcid.toLowerCase()) return invalid();
    if (!name || !auth.password) return invalid();
    this.deps.authenticator.login(name, auth.password, session.remoteAddress, "submission").then(
      (r) => {
        if (r.ok) return callback(null, { user: { id: r.account.id, address: r.account.address } satisfies AuthUser });
        if (r.reason === "throttled") {
          this.deps.metrics.authFailures.inc({ mechanism: mechanismLabel(auth.method) });
          const seconds = Math.ceil((r.retryAfterMs ?? 1000) / 1000);
          return callback(new SmtpReply(454, "4.7.0", `Error: too many failed logins, try again in ${seconds} seconds`, "throttled"));
        }
        invalid();
      },
      (err: unknown) => {
        this.deps.logger.error({ err }, "login check failed");
        callback(new SmtpReply(454, "4.7.0", "Error: temporary authentication failure", "auth_error"));
      },
    );
  }

  override onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const user = session.user as AuthUser;
    void (async () => {
      if (!(await ownsAddress(this.deps.db, user, address.address))) {
        this.deps.metrics.messages.inc({ result: "rejected", reason: "sender_not_owned" });
        this.deps.logger.info({ user: user.address, mailFrom: address.address }, "envelope sender refused: not owned");
        return new SmtpReply(553, "5.7.1", `Error: sender address <${address.address}> does not belong to ${user.address}`, "sender_not_owned");
      }
      if (await this.deps.limit.exceeded(user.id)) {
        this.deps.metrics.messages.inc({ result: "rejected", reason: "hourly_limit" });
        return new SmtpReply(451, "4.7.1", `Error: ${user.address} has sent ${this.deps.settings.POSTLINE_SUBMISSION_MAX_PER_HOUR} messages in the last hour, try again later`, "hourly_limit");
      }
      return null;
    })().then(callback, (err: unknown) => {
      this.deps.logger.error({ err }, "MAIL FROM check failed");
      callback(temporary());
    });
  }

  override onRcptTo(_address: SMTPServerAddress, _session: SMTPServerSession, callback: Callback): void {
    callback(); // any recipient, local or remote: this is the relay for authenticated users (count limit: maxRecipients)
  }

  override onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const work = submitMessage(this.deps, session, stream as Readable, session.user as AuthUser, session.remoteAddress);
    this.commits.add(work);
    work
      .then(
        (mailId) => callback(null, `2.0.0 queued as ${mailId}`),
        (err: unknown) => {
          if (!stream.readableEnded && !stream.destroyed) stream.resume();
          if (!(err instanceof SmtpReply)) this.deps.logger.error({ err }, "submission failed");
          callback(err instanceof SmtpReply ? err : temporary());
        },
      )
      .finally(() => this.commits.delete(work));
  }

  /** Stops accepting connections, lets sessions finish for `graceMs`, then waits for DATA commits in flight. */
  async shutdown(graceMs: number): Promise<void> {
    this.options.closeTimeout = Math.max(1, graceMs);
    await new Promise<void>((resolve) => this.close(() => resolve()));
    while (this.commits.size > 0) await Promise.allSettled([...this.commits]);
  }
}
