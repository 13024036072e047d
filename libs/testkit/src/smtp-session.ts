import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

export interface Reply {
  code: number;
  /** The text lines without the code (and separator). */
  lines: string[];
  /** All lines as sent, joined with "\n". */
  raw: string;
}

/**
 * A raw SMTP client for protocol tests: writes exactly what it is told and reads replies one by
 * one (multi-line replies whole), so pipelining, early talking and garbage can be tested.
 */
export class SmtpClient {
  private buffer = "";
  private readonly replies: Reply[] = [];
  private waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  private closedWith: Error | undefined;
  closed: Promise<void>;

  private constructor(private socket: Socket | TLSSocket) {
    this.closed = this.attach(socket);
  }

  static connect(port: number, options: { host?: string; localAddress?: string } = {}): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host: options.host ?? "127.0.0.1", localAddress: options.localAddress });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new SmtpClient(socket));
      });
    });
  }

  /** Connects with implicit TLS (port 465), not checking the (self-signed) certificate. */
  static connectTls(port: number, host = "127.0.0.1"): Promise<SmtpClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host, servername: "localhost", rejectUnauthorized: false });
      socket.once("error", reject);
      socket.once("secureConnect", () => {
        socket.off("error", reject);
        resolve(new SmtpClient(socket));
      });
    });
  }

  /** Connects and writes `prefix` (e.g. a PROXY header) before anything is read. */
  static async connectWith(port: number, prefix: Buffer | string, options: { localAddress?: string } = {}): Promise<SmtpClient> {
    const c = await SmtpClient.connect(port, options);
    c.write(prefix);
    return c;
  }

  get tlsSocket(): TLSSocket {
    return this.socket as TLSSocket;
  }

  private attach(socket: Socket): Promise<void> {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buffer += d;
      this.parse();
    });
    return new Promise((resolve) => {
      socket.on("error", () => {});
      socket.on("close", () => {
        this.closedWith = new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
        this.waiting?.reject(this.closedWith);
        this.waiting = undefined;
        resolve();
      });
    });
  }

  private parse(): void {
    for (;;) {
      const lines: string[] = [];
      let pos = 0;
      let complete: Reply | undefined;
      for (;;) {
        const nl = this.buffer.indexOf("\n", pos);
        if (nl < 0) break;
        const line = this.buffer.slice(pos, nl).replace(/\r$/, "");
        pos = nl + 1;
        lines.push(line);
        if (line.length < 4 || line[3] === " ") {
          complete = { code: Number(line.slice(0, 3)), lines: lines.map((l) => l.slice(4)), raw: lines.join("\n") };
          break;
        }
      }
      if (!complete) return;
      this.buffer = this.buffer.slice(pos);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(complete);
      } else this.replies.push(complete);
    }
  }

  /** The next reply. */
  read(timeoutMs = 10_000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting = {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Writes and waits until the socket can take more (for streaming large bodies). */
  writeFlowing(data: Buffer): Promise<void> {
    return this.socket.write(data) ? Promise.resolve() : new Promise((resolve) => this.socket.once("drain", () => resolve()));
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /** Sends the message body (dot-stuffed) and the terminating dot; resolves with the final reply. */
  async data(message: string | Buffer): Promise<Reply> {
    const text = Buffer.isBuffer(message) ? message.toString("latin1") : message;
    const body = text.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    this.socket.write(Buffer.from(`${body}${body.endsWith("\r\n") ? "" : "\r\n"}.\r\n`, "latin1"));
    return this.read(30_000);
  }

  /** STARTTLS on this connection (after its 220), then the client is the TLS socket. */
  async startTls(servername = "localhost"): Promise<TLSSocket> {
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("close");
    const tls = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: plain, servername, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    this.socket = tls;
    this.buffer = "";
    this.closed = this.attach(tls);
    return tls;
  }

  async quit(): Promise<void> {
    if (!this.socket.destroyed) this.socket.end("QUIT\r\n");
    await this.closed;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** EHLO, MAIL, RCPTs, DATA, message: the replies of each step (stops at a failing step). */
export async function sendMail(c: SmtpClient, mail: { from: string; to: string[]; message: string | Buffer; mailParams?: string; helo?: string }): Promise<Reply> {
  const ehlo = await c.command(`EHLO ${mail.helo ?? "client.example.org"}`);
  if (ehlo.code !== 250) return ehlo;
  return sendTransaction(c, mail);
}

/** MAIL, RCPTs, DATA, message on a greeted session: the reply of the first failing step, or of the message. */
export async function sendTransaction(c: SmtpClient, mail: { from: string; to: string[]; message: string | Buffer; mailParams?: string }): Promise<Reply> {
  const from = await c.command(`MAIL FROM:<${mail.from}>${mail.mailParams ? ` ${mail.mailParams}` : ""}`);
  if (from.code !== 250) return from;
  for (const to of mail.to) {
    const r = await c.command(`RCPT TO:<${to}>`);
    if (r.code !== 250) return r;
  }
  const data = await c.command("DATA");
  if (data.code !== 354) return data;
  return c.data(mail.message);
}
