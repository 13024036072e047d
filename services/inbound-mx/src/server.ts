import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import type { BlobStore } from "@postline/blobstore";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import { MxConnection } from "./connection.ts";
import { receiveMessage } from "./message.ts";
import type { MxMetrics } from "./metrics.ts";
import type { Rejection, SessionPolicy } from "./policy.ts";
import type { PregreetGate } from "./pregreet.ts";
import { readProxyV2 } from "./proxy-v2.ts";
import type { RecipientCache } from "./recipients.ts";
import { greylistReply, type Greylist } from "./greylist.ts";
import { SmtpReply } from "@postline/smtp";
import type { ReverseLookup } from "./reverse-dns.ts";
import type { MxSettings } from "./settings.ts";

export interface MxDeps {
  settings: MxSettings;
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  logger: Logger;
  metrics: MxMetrics;
  policy: SessionPolicy;
  pregreet: PregreetGate;
  reverseLookup: ReverseLookup | undefined;
  recipients: RecipientCache;
  /** Greylisting at RCPT (POSTLINE_GREYLIST); none: off. */
  greylist?: Greylist;
}

type Callback = (err?: Error | null) => void;

/**
 * The inbound MX on smtp-server: sessions are MxConnections, the handlers run the MX's checks
 * (connect policy, MAIL FROM policy, RCPT recipients) and DATA streams into the blob store and is
 * published as `mail.received` before the 250.
 */
export class MxServer extends SMTPServer {
  readonly settings: MxSettings;
  readonly log: Logger;
  readonly metrics: MxMetrics;
  private readonly deps: MxDeps;
  private readonly perIp = new Map<string, number>();
  private readonly bySession = new WeakMap<SMTPServerSession, MxConnection>();
  private readonly commits = new Set<Promise<unknown>>();
  private active = 0;

  constructor(options: SMTPServerOptions, deps: MxDeps) {
    super(options);
    this.deps = deps;
    this.settings = deps.settings;
    this.log = deps.logger;
    this.metrics = deps.metrics;
    // smtp-server reports socket and TLS errors of sessions here; without a listener they would crash the process.
    this.on("error", (err: Error & { code?: string }) => this.log.debug({ err: { message: err.message, code: err.code } }, "smtp session error"));
  }

  override connect(socket: Socket, socketOptions?: ConstructorParameters<typeof MxConnection>[2]): void {
    const connection = new MxConnection(this, socket, socketOptions);
    this.connections.add(connection);
    this.bySession.set(connection.session, connection);
    connection.on("error", (err: Error) => this._onError(err));
    connection.on("connect", (data) => this._onClientConnect(data));
    connection.init();
  }

  /** PROXY protocol v2 (binary) here; v1 (text) is smtp-server's own. */
  override _handleProxy(socket: Socket, callback: Parameters<SMTPServer["_handleProxy"]>[1]): void {
    if (!this._expectsProxyHeader(socket)) return super._handleProxy(socket, callback);
    readProxyV2(socket, (err, result) => {
      if (err || !result) {
        this.log.info({ err: err?.message, peer: socket.remoteAddress }, "bad PROXY header, connection dropped");
        return callback(err ?? new Error("no PROXY header"));
      }
      if (result.kind === "not-v2") return super._handleProxy(socket, callback);
      const id = BigInt(`0x${randomBytes(10).toString("hex")}`).toString(32).padStart(16, "0");
      if (result.kind === "local") return callback(null, { id });
      callback(null, { id, remoteAddress: result.remoteAddress, remotePort: result.remotePort });
    });
  }

  trackConnection(c: MxConnection): void {
    this.active++;
    this.perIp.set(c.remoteAddress, (this.perIp.get(c.remoteAddress) ?? 0) + 1);
    this.metrics.activeSessions.inc();
  }

  untrackConnection(c: MxConnection): void {
    this.active--;
    const n = (this.perIp.get(c.remoteAddress) ?? 1) - 1;
    if (n > 0) this.perIp.set(c.remoteAddress, n);
    else this.perIp.delete(c.remoteAddress);
    this.metrics.activeSessions.dec();
  }

  /** Why a new session must be refused at once (it is already counted), or null. */
  admissionRefusal(c: MxConnection): { reason: string; text: string } | null {
    if (this.active > this.settings.POSTLINE_MX_MAX_CONNECTIONS) {
      return { reason: "refused_max_connections", text: `4.7.0 ${this.settings.POSTLINE_HOSTNAME} Error: too many connections, try again later` };
    }
    if ((this.perIp.get(c.remoteAddress) ?? 0) > this.settings.POSTLINE_MX_MAX_CONNECTIONS_PER_IP) {
      return { reason: "refused_per_ip_limit", text: `4.7.0 ${this.settings.POSTLINE_HOSTNAME} Error: too many connections from your address, try again later` };
    }
    return null;
  }

  /** The greeting is going out: settle the pregreet test. */
  greeted(c: MxConnection): void {
    if (c.earlyTalker) {
      c.addSymbol("EARLY_TALKER");
      this.deps.pregreet.recordFail(c.remoteAddress);
      c.log.info("early talker: the client talked before the greeting");
    } else if (c.pregreetWaited) {
      this.deps.pregreet.recordPass(c.remoteAddress);
    }
  }

  private connectionOf(session: SMTPServerSession): MxConnection {
    const c = this.bySession.get(session);
    if (!c) throw new Error(`no connection for session ${session.id}`);
    return c;
  }

  override onConnect(session: SMTPServerSession, callback: Callback): void {
    const c = this.connectionOf(session);
    const ip = c.remoteAddress;
    const wait = this.deps.pregreet.delayFor(ip) - (Date.now() - c.startedAt);
    c.pregreetWaited = wait > 0;
    const reverse = this.deps.reverseLookup;
    void Promise.all([
      wait > 0 ? sleep(wait, undefined, { ref: false }) : undefined,
      reverse ? reverse(ip).then((name) => (c.confirmedHostname = name)) : undefined,
      this.policyCheck(c, "connect", () => this.deps.policy.checkConnect(ip)),
    ]).then(
      ([, , rejection]) => {
        if (rejection) this.metrics.sessions.inc({ result: "refused_policy" });
        callback(rejection);
      },
      (err: unknown) => callback(err as Error),
    );
  }

  override onMailFrom(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const c = this.connectionOf(session);
    const helo = c.hostNameAppearsAs || "";
    void this.policyCheck(c, "mail", () => this.deps.policy.checkMailFrom({ ip: c.remoteAddress, helo, mailFrom: address.address })).then(callback, callback);
  }

  override onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback: Callback): void {
    const c = this.connectionOf(session);
    const greylist = this.deps.greylist;
    this.deps.recipients
      .check(this.deps.db, address.address)
      .then(async (refusal) => {
        // Greylisting only for recipients we would accept: a refusal is answered as it is.
        if (refusal || !greylist) return refusal;
        const mailFrom = session.envelope.mailFrom;
        const outcome = await greylist.check({ ip: c.remoteAddress, sender: mailFrom ? mailFrom.address : "", recipient: address.address });
        return outcome.pass ? null : greylistReply(address.address, outcome);
      })
      .then(
        (refusal) => {
          this.metrics.recipients.inc({ result: refusal?.reason ?? "accepted" });
          if (refusal) this.metrics.rejections.inc({ reason: refusal.reason });
          if (refusal) c.log.info({ rcpt: address.address, reason: refusal.reason }, "recipient refused");
          callback(refusal);
        },
        (err: unknown) => {
          this.metrics.recipients.inc({ result: "lookup_failed" });
          this.metrics.rejections.inc({ reason: "lookup_failed" });
          c.log.error({ err, rcpt: address.address }, "recipient lookup failed");
          callback(new SmtpReply(451, "4.3.0", "Temporary lookup failure, try again later", "lookup_failed"));
        },
      );
  }

  override onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void): void {
    const c = this.connectionOf(session);
    const work = c.commit(() => receiveMessage(this.deps, c, session, stream as Readable));
    this.commits.add(work);
    work.then(
      (mailId) => callback(null, `2.0.0 Ok: queued as ${mailId}`),
      (err: unknown) => {
        if (!stream.readableEnded && !stream.destroyed) stream.resume(); // drain the rest; the reply follows its end
        const reply = err instanceof SmtpReply ? err : new SmtpReply(451, "4.3.0", "Temporary local problem, try again later", "internal");
        this.metrics.rejections.inc({ reason: reply.reason });
        callback(reply);
      },
    ).finally(() => this.commits.delete(work));
  }

  /**
   * Stops accepting connections and lets sessions finish for `graceMs`; then the remaining ones get
   * `421` and are closed. Resolves once no DATA commit is in flight any more.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.options.closeTimeout = Math.max(1, graceMs);
    await new Promise<void>((resolve) => this.close(() => resolve()));
    while (this.commits.size > 0) await Promise.allSettled([...this.commits]);
  }

  private async policyCheck(c: MxConnection, stage: string, check: () => Promise<Rejection | null>): Promise<SmtpReply | null> {
    let rejection;
    try {
      rejection = await check();
    } catch (err) {
      // A lookup that fails (DNS trouble) must not refuse mail: the spam filter decides later.
      c.log.warn({ err, stage }, "session policy check failed; continuing");
      return null;
    }
    if (!rejection) return null;
    c.addSymbol(rejection.symbol);
    c.log.info({ stage, symbol: rejection.symbol, code: rejection.code }, "refused by session policy");
    this.metrics.rejections.inc({ reason: `policy_${rejection.symbol}` });
    return new SmtpReply(rejection.code, rejection.enhanced, rejection.message, `policy_${rejection.symbol}`);
  }
}
