import { Readable } from "node:stream";
import type { SMTPEnvelope } from "nodemailer/lib/smtp-connection";
import type { Logger } from "@postline/telemetry";
import { OutboundConnection, xtext, type SmtpError } from "./connection.ts";
import { ConnectionPool, type Session } from "./pool.ts";
import { DnsLookupError, RouteResolver } from "./route-resolver.ts";
import type { OutboundEnvelope, OutboundRecipient, RecipientOutcome, RouteHost, TransportSettings } from "./types.ts";

type OpenMessage = () => Promise<NodeJS.ReadableStream | Buffer>;

/** What one address did with the message. */
type AttemptResult =
  | { kind: "done"; outcomes: RecipientOutcome[] }
  /** The address did not take the transaction (connection, greeting, EHLO, TLS, MAIL FROM 4xx): try the next one. */
  | { kind: "next"; error: string }
  /** The connection broke before the message body was sent: nothing was delivered. */
  | { kind: "broken"; error: string };

/**
 * SMTP delivery to a remote domain: resolves the route (MX, implicit MX, null MX), tries the hosts in
 * preference order and each host's addresses in turn until one takes the transaction, and returns one
 * outcome per recipient. Connections are kept for reuse by later deliveries to the same address.
 * Concurrency limits are the caller's business; a connection only ever serves one delivery at a time.
 */
export class RemoteTransport {
  readonly resolver: RouteResolver;
  private readonly pool: ConnectionPool;

  constructor(
    private readonly settings: TransportSettings,
    private readonly logger: Logger,
    resolver?: RouteResolver,
  ) {
    this.resolver = resolver ?? new RouteResolver({ dnsServers: settings.dnsServers });
    this.pool = new ConnectionPool(settings.idleConnectionMs, settings.maxMessagesPerConnection);
  }

  /**
   * One outcome per recipient, in the order given. Rejects only when `openMessage` rejects (with its error);
   * a message stream that fails part way gives `temporary` 4.3.0 outcomes instead.
   */
  async deliver(domain: string, envelope: OutboundEnvelope, recipients: OutboundRecipient[], openMessage: OpenMessage): Promise<RecipientOutcome[]> {
    if (recipients.length === 0) return [];
    let route;
    try {
      route = await this.resolver.resolve(domain);
    } catch (err) {
      const error = err instanceof DnsLookupError ? err.message : `DNS lookup for ${domain} failed: ${String(err)}`;
      this.logger.warn({ domain, err: error }, "remote delivery: DNS lookup failed");
      return failAll(recipients, "temporary", "4.4.3", error);
    }
    if (route.kind === "null-mx") return failAll(recipients, "permanent", "5.1.10", `domain ${domain} has a null MX (RFC 7505): it accepts no mail`);
    if (route.kind === "no-such-domain") return failAll(recipients, "permanent", "5.1.2", `domain ${domain} does not exist (NXDOMAIN)`);
    if (route.hosts.length === 0) return failAll(recipients, "permanent", "5.1.2", `domain ${domain} has no MX and no address records`);

    let lastError = `no MX host of ${domain} has an address`;
    for (const host of route.hosts) {
      if (host.addresses.length === 0) {
        lastError = `MX host ${host.name} of ${domain} has no address records`;
        continue;
      }
      for (const address of host.addresses) {
        const result = await this.tryAddress(host, address, envelope, recipients, openMessage);
        if (result.kind === "done") return inOrder(recipients, result.outcomes);
        lastError = result.error;
        this.logger.info({ domain, host: label(host.name, address), err: result.error }, "remote delivery: trying the next address");
      }
    }
    this.logger.warn({ domain, err: lastError }, "remote delivery: no host took the message");
    return failAll(recipients, "temporary", "4.4.1", lastError);
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    await this.pool.closeAll();
  }

  private async tryAddress(host: RouteHost, address: string, envelope: OutboundEnvelope, recipients: OutboundRecipient[], openMessage: OpenMessage): Promise<AttemptResult> {
    const where = label(host.name, address);
    let session = this.pool.take(address);
    let reused = session !== undefined;
    for (;;) {
      if (!session) {
        try {
          session = await this.connect(host.name, address);
        } catch (err) {
          return { kind: "next", error: describeFailure(err, where) };
        }
      }
      const result = await this.transaction(session, where, envelope, recipients, openMessage);
      if (result.kind !== "broken") return result;
      if (!reused) return { kind: "next", error: result.error };
      // A kept connection the server dropped meanwhile: try once more on a fresh one.
      session = undefined;
      reused = false;
    }
  }

  private async connect(hostName: string, address: string): Promise<Session> {
    const conn = new OutboundConnection({
      host: address,
      port: this.settings.port,
      name: this.settings.heloName,
      servername: hostName,
      opportunisticTLS: true,
      tls: { rejectUnauthorized: false, servername: hostName },
      connectionTimeout: this.settings.connectTimeoutMs,
      greetingTimeout: this.settings.greetingTimeoutMs,
      socketTimeout: this.settings.socketTimeoutMs,
      logger: false,
    });
    // Errors reach us through the callbacks; an idle pooled connection may still emit one.
    conn.on("error", () => undefined);
    await conn.open();
    this.logger.debug({ host: label(hostName, address), tls: conn.secure, extensions: conn.extensions() }, "remote delivery: connected");
    return { conn, address, messages: 0 };
  }

  private async transaction(
    session: Session,
    where: string,
    envelope: OutboundEnvelope,
    recipients: OutboundRecipient[],
    openMessage: OpenMessage,
  ): Promise<AttemptResult> {
    const { conn } = session;
    const extensions = conn.extensions();
    const remoteSupportsDsn = extensions.includes("DSN");
    const outcomes: RecipientOutcome[] = [];
    let sendable = recipients;
    if (!extensions.includes("SMTPUTF8")) {
      const why = `${where} does not support SMTPUTF8 (RFC 6531), which this message needs`;
      if (envelope.smtpUtf8 || nonAscii(envelope.mailFrom)) {
        this.pool.put(session);
        return { kind: "done", outcomes: failAll(recipients, "permanent", "5.6.7", why, where) };
      }
      sendable = recipients.filter((r) => !nonAscii(r.address));
      outcomes.push(...failAll(recipients.filter((r) => nonAscii(r.address)), "permanent", "5.6.7", why, where));
      if (sendable.length === 0) {
        this.pool.put(session);
        return { kind: "done", outcomes };
      }
    }

    conn.requireSmtpUtf8 = envelope.smtpUtf8;
    conn.rcptParameters = new Map(sendable.map((r) => [r.address, rcptParameters(r)]));
    const smtpEnvelope: SMTPEnvelope = {
      from: envelope.mailFrom,
      to: sendable.map((r) => r.address),
      size: envelope.size,
      use8BitMime: envelope.body !== "7BIT",
    };
    if (envelope.ret || envelope.envid) {
      smtpEnvelope.dsn = {};
      if (envelope.ret) smtpEnvelope.dsn.ret = envelope.ret;
      if (envelope.envid) smtpEnvelope.dsn.envid = envelope.envid;
    }

    let source: NodeJS.ReadableStream | Buffer;
    try {
      source = await openMessage();
    } catch (err) {
      // The caller's own failure (e.g. the blob is gone): deliver() rejects with it, the connection stays usable.
      this.pool.put(session);
      throw err;
    }
    let bodyStarted = false;
    const body = Readable.from(
      (async function* () {
        bodyStarted = true;
        if (Buffer.isBuffer(source)) yield source;
        else for await (const chunk of source as AsyncIterable<Buffer | string>) yield typeof chunk === "string" ? Buffer.from(chunk) : chunk;
      })(),
      { objectMode: false },
    );

    session.messages++;
    try {
      const info = await conn.sendMessage(smtpEnvelope, body);
      const reply = info.response.trim();
      const accepted = new Set(info.accepted);
      const rejected = new Map((info.rejectedErrors ?? []).map((e) => [e.recipient ?? "", e as SmtpError]));
      for (const r of sendable) {
        const err = rejected.get(r.address);
        if (accepted.has(r.address)) outcomes.push({ recipient: r.address, kind: "delivered", reply, host: where, remoteSupportsDsn });
        else if (err) outcomes.push(replyOutcome(r.address, err.response ?? err.message, where));
        else outcomes.push({ recipient: r.address, kind: "temporary", status: "4.4.2", error: `${where} gave no reply for this recipient`, host: where });
      }
      this.pool.put(session);
      return { kind: "done", outcomes };
    } catch (caught) {
      const err = caught as SmtpError;
      destroySource(source);
      const result = this.failedTransaction(err, session, where, envelope, sendable, bodyStarted);
      if (result.kind === "done") result.outcomes.unshift(...outcomes);
      // Only a transaction the server ended with a reply leaves the session in a known state; after a
      // local stream error or a broken connection the session may be in the middle of DATA.
      const cleanEnd = err.code === "EENVELOPE" || (err.code === "EMESSAGE" && (err.command === "DATA" || err.command === "MAIL FROM"));
      await this.afterFailure(session, cleanEnd);
      return result;
    }
  }

  /** Maps a failed send() to outcomes, or to "try elsewhere". */
  private failedTransaction(err: SmtpError, session: Session, where: string, envelope: OutboundEnvelope, sendable: OutboundRecipient[], bodyStarted: boolean): AttemptResult {
    const code = err.code ?? "";
    const response = err.response?.trim();
    if (code === "EENVELOPE" && err.command === "MAIL FROM" && response) {
      if (err.responseCode !== undefined && err.responseCode >= 500 && err.responseCode < 600) {
        return { kind: "done", outcomes: sendable.map((r) => replyOutcome(r.address, response, where)) };
      }
      return { kind: "next", error: `${where} said to MAIL FROM: ${response}` };
    }
    if (code === "EENVELOPE" && err.command === "RCPT TO") {
      const byRecipient = new Map((err.rejectedErrors ?? session.conn.lastRejections()).map((e) => [e.recipient ?? "", e]));
      return {
        kind: "done",
        outcomes: sendable.map((r) => {
          const e = byRecipient.get(r.address);
          return e ? replyOutcome(r.address, e.response ?? e.message, where) : replyOutcome(r.address, response ?? err.message, where);
        }),
      };
    }
    if ((code === "EENVELOPE" || code === "EMESSAGE") && err.command === "DATA" && response) {
      // The DATA command or the message was refused: for every recipient the server had accepted.
      const byRecipient = new Map(session.conn.lastRejections().map((e) => [e.recipient ?? "", e]));
      return {
        kind: "done",
        outcomes: sendable.map((r) => {
          const e = byRecipient.get(r.address);
          return replyOutcome(r.address, e ? (e.response ?? e.message) : response, where);
        }),
      };
    }
    if (code === "EMESSAGE" && err.command === "MAIL FROM") {
      return { kind: "done", outcomes: failAll(sendable, "permanent", "5.3.4", `message size ${envelope.size} exceeds the limit of ${where}: ${err.message}`, where) };
    }
    if (code === "EENVELOPE") {
      return { kind: "done", outcomes: failAll(sendable, "permanent", "5.1.3", `${err.message} (${where})`, where) };
    }
    if (code === "ESTREAM") {
      return { kind: "done", outcomes: failAll(sendable, "temporary", "4.3.0", `could not read the message: ${err.message}`, where) };
    }
    const description = describeFailure(err, where);
    if (!bodyStarted) return { kind: "broken", error: description };
    return { kind: "done", outcomes: failAll(sendable, "temporary", "4.4.2", `connection to ${where} lost during the message: ${description}`, where) };
  }

  /** After a failed transaction: RSET and keep the connection when it is still good, else close it. */
  private async afterFailure(session: Session, cleanEnd: boolean): Promise<void> {
    if (cleanEnd && session.conn.usable() && (await session.conn.resetSession())) this.pool.put(session);
    else session.conn.close();
  }
}

/** The outcomes in the order of the recipients. */
function inOrder(recipients: OutboundRecipient[], outcomes: RecipientOutcome[]): RecipientOutcome[] {
  const position = new Map(recipients.map((r, i) => [r.address, i]));
  return [...outcomes].sort((a, b) => (position.get(a.recipient) ?? 0) - (position.get(b.recipient) ?? 0));
}

function label(hostName: string, address: string): string {
  return `${hostName} [${address}]`;
}

function nonAscii(value: string): boolean {
  return /[\u0080-\uffff]/.test(value);
}

function failAll(recipients: OutboundRecipient[], kind: "temporary" | "permanent", status: string, error: string, host?: string): RecipientOutcome[] {
  return recipients.map((r) => (host ? { recipient: r.address, kind, status, error, host } : { recipient: r.address, kind, status, error }));
}

/** A 4xx/5xx reply as the recipient's outcome: the enhanced status code from the reply, or x.0.0. */
function replyOutcome(recipient: string, reply: string, host: string): RecipientOutcome {
  const text = reply.trim();
  const code = Number(/^(\d{3})/.exec(text)?.[1] ?? "0");
  const kind = code >= 500 && code < 600 ? "permanent" : "temporary";
  const klass = kind === "permanent" ? "5" : "4";
  const enhanced = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(text)?.[1];
  const status = enhanced && enhanced.startsWith(klass) ? enhanced : `${klass}.0.0`;
  return { recipient, kind, status, error: text, host };
}

/** " NOTIFY=... ORCPT=..." for a recipient's RCPT TO (sent only when the server advertises DSN). */
export function rcptParameters(r: OutboundRecipient): string {
  let params = "";
  if (r.notify && r.notify.length > 0) params += ` NOTIFY=${r.notify.join(",")}`;
  if (r.orcpt) {
    const semicolon = r.orcpt.indexOf(";");
    const type = semicolon > 0 ? r.orcpt.slice(0, semicolon) : "rfc822";
    const value = semicolon > 0 ? r.orcpt.slice(semicolon + 1) : r.orcpt;
    // RFC 6533: a UTF-8 original recipient goes as utf-8-addr-unitext (only with SMTPUTF8, which such mail uses).
    params += nonAscii(value) ? ` ORCPT=utf-8;${unitext(value)}` : ` ORCPT=${type};${xtext(value)}`;
  }
  return params;
}

function unitext(value: string): string {
  return [...value]
    .map((ch) => {
      const code = ch.codePointAt(0)!;
      return code <= 0x20 || code === 0x7f || ch === "+" || ch === "=" || ch === "\\" ? `\\x{${code.toString(16).toUpperCase()}}` : ch;
    })
    .join("");
}

function describeFailure(caught: unknown, where: string): string {
  const err = caught as SmtpError;
  const response = err.response?.trim();
  if (response) return `${where} said: ${response}`;
  const system = err.originalCode;
  if (system === "ECONNREFUSED") return `connection refused by ${where}: ECONNREFUSED`;
  if (err.code === "ETIMEDOUT") return `timeout talking to ${where}: ${err.message}`;
  if (err.code === "ETLS") return `TLS failure with ${where}: ${err.message}`;
  return `${err.message ?? String(caught)} (${where})${system ? `: ${system}` : ""}`;
}

function destroySource(source: NodeJS.ReadableStream | Buffer): void {
  if (!Buffer.isBuffer(source) && typeof (source as { destroy?: unknown }).destroy === "function") (source as unknown as { destroy(): void }).destroy();
}
