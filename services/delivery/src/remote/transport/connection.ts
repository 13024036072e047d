import SMTPConnection from "nodemailer/lib/smtp-connection";
import type { SMTPConnectionSendInfo, SMTPEnvelope } from "nodemailer/lib/smtp-connection";
import type { Readable } from "node:stream";

/** The fields nodemailer puts on its errors (see nodemailer's _formatError). */
export interface SmtpError extends Error {
  code?: string;
  /** The system error code (ECONNREFUSED, ...) when nodemailer replaced it with its own. */
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  recipient?: string;
  rejectedErrors?: SmtpError[];
}

/** nodemailer internals this file relies on (nodemailer is pinned to 10.3.1; the transport tests cover them). */
interface ConnectionInternals {
  _supportedExtensions: string[];
  _envelope: false | { rejectedErrors?: SmtpError[]; accepted?: string[] };
}

/**
 * nodemailer's SMTPConnection with what outbound relaying needs on top:
 * - DSN parameters per recipient: nodemailer takes one NOTIFY/ORCPT per message, so the RCPT TO
 *   commands get their parameters here, from `rcptParameters`, when the server advertises DSN;
 * - SMTPUTF8 on MAIL FROM when the message needs it although the addresses are ASCII
 *   (UTF-8 headers; nodemailer only looks at the addresses).
 */
export class OutboundConnection extends SMTPConnection {
  /** RCPT TO parameters (" NOTIFY=... ORCPT=...") by recipient address, for the next send(). */
  rcptParameters = new Map<string, string>();
  /** Add SMTPUTF8 to the next MAIL FROM (when the server advertises it). */
  requireSmtpUtf8 = false;

  /** Extension keywords from the last EHLO reply (upper case), e.g. DSN, SMTPUTF8, 8BITMIME, SIZE. */
  extensions(): string[] {
    return [...((this as unknown as ConnectionInternals)._supportedExtensions ?? [])];
  }

  /** Recipients the server refused in the last transaction, with nodemailer's error per recipient. */
  lastRejections(): SmtpError[] {
    const envelope = (this as unknown as ConnectionInternals)._envelope;
    return envelope ? [...(envelope.rejectedErrors ?? [])] : [];
  }

  /** Overrides nodemailer's internal command writer (see the class comment). */
  _sendCommand(str: string, logStr?: string): void {
    let command = str;
    if (/^MAIL FROM:/i.test(command) && this.requireSmtpUtf8 && this.extensions().includes("SMTPUTF8") && !/ SMTPUTF8\b/i.test(command)) {
      command += " SMTPUTF8";
    } else if (/^RCPT TO:</i.test(command)) {
      const match = /^RCPT TO:<([^>]*)>/i.exec(command);
      const params = match ? this.rcptParameters.get(match[1]!) : undefined;
      if (params && this.extensions().includes("DSN")) command = `RCPT TO:<${match![1]}>${params}`;
    }
    (SMTPConnection.prototype as unknown as { _sendCommand(str: string, logStr?: string): void })._sendCommand.call(this, command, logStr);
  }

  /** Connects, greets, EHLO, STARTTLS when offered; rejects with the nodemailer error. */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown): void => {
        if (settled) return;
        settled = true;
        this.close();
        reject(err as Error);
      };
      this.once("error", fail);
      this.connect((err) => {
        if (err) return fail(err);
        if (settled) return;
        settled = true;
        this.removeListener("error", fail);
        resolve();
      });
    });
  }

  sendMessage(envelope: SMTPEnvelope, message: Readable): Promise<SMTPConnectionSendInfo> {
    return this.guarded<SMTPConnectionSendInfo>((settle) => this.send(envelope, message, (err, info) => settle(err as SmtpError | null, info)));
  }

  /** RSET; false when the server refused or the connection is gone. */
  async resetSession(): Promise<boolean> {
    try {
      return await this.guarded<boolean>((settle) => this.reset((err) => settle(err as SmtpError | null, true)));
    } catch {
      return false;
    }
  }

  /**
   * Runs a callback-style operation; if the connection ends before the callback comes (nodemailer
   * forgets queued replies when it closes), fails with ECONNECTION instead of waiting forever.
   */
  private guarded<T>(start: (settle: (err: SmtpError | null, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const onEnd = (): void => {
        // nodemailer emits "end" just before it hands the error to the callback: let that come first.
        setImmediate(() => settle(Object.assign(new Error("Connection closed"), { code: "ECONNECTION" }) as SmtpError));
      };
      const settle = (err: SmtpError | null, value?: T): void => {
        if (done) return;
        done = true;
        this.removeListener("end", onEnd);
        if (err) reject(err);
        else resolve(value as T);
      };
      this.once("end", onEnd);
      try {
        start(settle);
      } catch (err) {
        settle(err as SmtpError);
      }
    });
  }

  /** True while the connection can carry another transaction. */
  usable(): boolean {
    const self = this as unknown as { _destroyed?: boolean; _closing?: boolean; _socket?: { destroyed?: boolean; writable?: boolean } | false | null };
    return !self._destroyed && !self._closing && !!self._socket && !self._socket.destroyed && !!self._socket.writable;
  }
}

/** xtext (RFC 3461 section 4): "+", "=" and characters outside "!".."~" as +HH of their UTF-8 bytes. */
export function xtext(value: string): string {
  let out = "";
  for (const byte of Buffer.from(value, "utf8")) {
    out += byte >= 33 && byte <= 126 && byte !== 0x2b && byte !== 0x3d ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}
