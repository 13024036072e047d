import net from "node:net";
import tls from "node:tls";

/**
 * A small IMAP client that shows the wire: each command's untagged responses as they came (line
 * text, literals kept as bytes), the tagged status, and its latency. The tests use it where a
 * library would hide what the server said (QRESYNC's VANISHED, IDLE's EXISTS, the fuzz) and the
 * benchmark uses it against both servers, so the client costs the same for each.
 */
export interface ImapResponse {
  /** The response's line(s) with every literal replaced by `{n}` markers, as they were sent. */
  text: string;
  /** The literals, in order. */
  literals: Buffer[];
}

export interface TaggedReply {
  tag: string;
  status: "OK" | "NO" | "BAD" | "BYE";
  text: string;
  untagged: ImapResponse[];
  ms: number;
}

export type TlsMode = "implicit" | "starttls" | "none";

export interface ConnectOptions {
  host?: string;
  port: number;
  tls: TlsMode;
  /** PEM of a CA to trust; without it certificates are not verified (self-signed test servers). */
  ca?: string;
  servername?: string;
  timeoutMs?: number;
}

interface Waiter {
  tag: string;
  started: number;
  untagged: ImapResponse[];
  resolve(r: TaggedReply): void;
  reject(e: Error): void;
  onContinuation?: (text: string) => void;
}

const CRLF = Buffer.from("\r\n");
const LITERAL_AT_END = /\{(\d+)\+?\}$/;

export class RawImap {
  private socket: net.Socket | tls.TLSSocket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { text: string[]; literals: Buffer[]; need: number } | null = null;
  private waiter: Waiter | null = null;
  private nextTag = 1;
  private listeners = new Set<(r: ImapResponse) => void>();
  private closedError: Error | null = null;
  greeting = "";
  closed: Promise<void>;
  /** Untagged responses that arrived with no command waiting (IDLE, or after a BYE). */
  unsolicited: ImapResponse[] = [];

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", () => resolve()));
    this.attach(socket);
  }

  static async connect(options: ConnectOptions): Promise<RawImap> {
    const host = options.host ?? "127.0.0.1";
    const socket =
      options.tls === "implicit"
        ? tls.connect({ host, port: options.port, ca: options.ca, rejectUnauthorized: options.ca !== undefined, servername: options.servername ?? (options.ca ? "localhost" : undefined) })
        : net.connect({ host, port: options.port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls === "implicit" ? "secureConnect" : "connect", () => resolve());
      socket.once("error", reject);
    });
    const c = new RawImap(socket);
    c.greeting = (await c.nextResponse(options.timeoutMs ?? 10_000)).text;
    if (options.tls === "starttls") await c.startTls(options);
    return c;
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.on("data", (d: Buffer) => this.onData(d));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  private fail(e: Error): void {
    this.closedError ??= e;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      // A command ended by a BYE and the close is answered as such (RFC 9051 §7.1.5).
      const bye = w.untagged.find((u) => /^\* BYE\b/i.test(u.text));
      if (bye) w.resolve({ tag: w.tag, status: "BYE", text: bye.text, untagged: w.untagged, ms: Date.now() - w.started });
      else w.reject(new Error(`${w.tag}: ${e.message}`));
    }
  }

  private async startTls(options: ConnectOptions): Promise<void> {
    const r = await this.command("STARTTLS");
    if (r.status !== "OK") throw new Error(`STARTTLS refused: ${r.text}`);
    const plain = this.socket;
    plain.removeAllListeners("data");
    plain.removeAllListeners("error");
    plain.removeAllListeners("close");
    const secure = tls.connect({ socket: plain as net.Socket, ca: options.ca, rejectUnauthorized: options.ca !== undefined, servername: options.servername ?? (options.ca ? "localhost" : undefined) });
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", () => resolve());
      secure.once("error", reject);
    });
    this.socket = secure;
    this.closed = new Promise((resolve) => secure.once("close", () => resolve()));
    this.attach(secure);
  }

  get secure(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.pending && this.pending.need > 0) {
        if (this.buf.length < this.pending.need) return;
        this.pending.literals.push(this.buf.subarray(0, this.pending.need));
        this.buf = this.buf.subarray(this.pending.need);
        this.pending.need = 0;
      }
      const eol = this.buf.indexOf(CRLF);
      if (eol === -1) return;
      const line = this.buf.toString("utf8", 0, eol);
      this.buf = this.buf.subarray(eol + 2);
      const p = (this.pending ??= { text: [], literals: [], need: 0 });
      p.text.push(line);
      const lit = LITERAL_AT_END.exec(line);
      if (lit) {
        p.need = Number(lit[1]);
        continue;
      }
      this.pending = null;
      this.onResponse({ text: p.text.join("\r\n"), literals: p.literals });
    }
  }

  private onResponse(r: ImapResponse): void {
    for (const l of this.listeners) l(r);
    const w = this.waiter;
    if (r.text.startsWith("+")) {
      if (w?.onContinuation) w.onContinuation(r.text);
      else this.unsolicited.push(r);
      return;
    }
    if (w && r.text.startsWith(`${w.tag} `)) {
      this.waiter = null;
      const rest = r.text.slice(w.tag.length + 1);
      const status = rest.split(" ", 1)[0]!.toUpperCase() as TaggedReply["status"];
      w.resolve({ tag: w.tag, status, text: rest, untagged: w.untagged, ms: Date.now() - w.started });
      return;
    }
    if (w) w.untagged.push(r);
    else this.unsolicited.push(r);
  }

  /** The next response of any kind (the greeting). */
  private nextResponse(timeoutMs: number): Promise<ImapResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no response")), timeoutMs);
      const l = (r: ImapResponse) => {
        clearTimeout(timer);
        this.listeners.delete(l);
        this.unsolicited.splice(this.unsolicited.indexOf(r), 1);
        resolve(r);
      };
      this.listeners.add(l);
    });
  }

  /** Calls `listener` with every response from now on; returns the function that stops it. */
  subscribe(listener: (r: ImapResponse) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first response (tagged or not) that `match` accepts, seen from now on. */
  waitFor(match: (r: ImapResponse) => boolean, timeoutMs = 10_000): Promise<ImapResponse> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(l);
        reject(new Error(`no matching response within ${timeoutMs} ms`));
      }, timeoutMs);
      const l = (r: ImapResponse) => {
        if (!match(r)) return;
        clearTimeout(timer);
        this.listeners.delete(l);
        resolve(r);
      };
      this.listeners.add(l);
    });
  }

  /**
   * Sends one command; `parts` alternate text and literals (a Buffer is sent as a synchronising
   * literal `{n}`, waiting for the server's `+`). Resolves with the tagged reply.
   */
  command(...parts: (string | Buffer)[]): Promise<TaggedReply> {
    return this.commandWithTag(`A${this.nextTag++}`, parts);
  }

  commandWithTag(tag: string, parts: (string | Buffer)[], timeoutMs = 30_000): Promise<TaggedReply> {
    if (this.closedError) return Promise.reject(new Error(`${tag}: ${this.closedError.message}`));
    if (this.waiter) return Promise.reject(new Error("one command at a time"));
    return new Promise<TaggedReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiter?.tag === tag) this.waiter = null;
        reject(new Error(`${tag}: no tagged reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const chunks: Buffer[] = [];
      let text = `${tag} `;
      for (const part of parts) {
        if (typeof part === "string") text += part;
        else {
          chunks.push(Buffer.from(`${text}{${part.length}}\r\n`, "utf8"), part);
          text = "";
        }
      }
      chunks.push(Buffer.from(`${text}\r\n`, "utf8"));
      let next = 0;
      const sendUntilLiteral = () => {
        // Write up to and including the next literal announcement, then wait for `+`.
        while (next < chunks.length) {
          const c = chunks[next++]!;
          this.socket.write(c);
          if (next < chunks.length && next % 2 === 1) return;
        }
      };
      this.waiter = {
        tag,
        started: Date.now(),
        untagged: [],
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
        onContinuation: chunks.length > 1 ? () => sendUntilLiteral() : undefined,
      };
      sendUntilLiteral();
    });
  }

  /** Writes raw bytes (the fuzz, IDLE's DONE). */
  write(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** Starts IDLE; resolves once the server sent `+`. `done()` ends it with the tagged reply. */
  async idle(): Promise<{ done(): Promise<TaggedReply> }> {
    const tag = `A${this.nextTag++}`;
    let continued!: () => void;
    const plus = new Promise<void>((r) => (continued = r));
    const reply = new Promise<TaggedReply>((resolve, reject) => {
      this.waiter = { tag, started: Date.now(), untagged: [], resolve, reject, onContinuation: () => continued() };
      this.socket.write(`${tag} IDLE\r\n`);
    });
    await Promise.race([plus, reply.then((r) => Promise.reject(new Error(`IDLE refused: ${r.status} ${r.text}`)))]);
    return {
      done: () => {
        this.socket.write("DONE\r\n");
        return reply;
      },
    };
  }

  async logout(): Promise<void> {
    try {
      await this.command("LOGOUT");
    } catch {
      // closed already
    }
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** An IMAP quoted string. */
export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
