import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";

/** A minimal POP3 client for tests: raw lines and multi-line bodies, byte-exact. */
export class Pop3TestClient {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | undefined;
  ended = false;

  private constructor(public socket: Socket) {
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<Pop3TestClient> {
    const socket = options.tls
      ? await new Promise<TLSSocket>((resolve, reject) => {
          const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => resolve(s));
          s.once("error", reject);
        })
      : await new Promise<Socket>((resolve, reject) => {
          const s = netConnect({ host: "127.0.0.1", port }, () => resolve(s));
          s.once("error", reject);
        });
    return new Pop3TestClient(socket);
  }

  private listen(socket: Socket): void {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("close", this.onEnd);
    socket.on("error", () => undefined);
  }

  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.waiter?.();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.waiter?.();
  };

  private take(n: number): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered = all.length - n;
    return all.subarray(0, n);
  }

  private async waitFor(find: (all: Buffer) => number, timeoutMs = 10_000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      const all = this.chunks[0] ?? Buffer.alloc(0);
      const end = find(all);
      if (end >= 0) return this.take(end);
      if (this.ended) throw new Error(`connection closed; buffered: ${JSON.stringify(all.toString("latin1").slice(0, 200))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; buffered: ${JSON.stringify(all.toString("latin1").slice(0, 200))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** The next line, without CRLF. */
  async line(timeoutMs?: number): Promise<string> {
    const raw = await this.waitFor((all) => {
      const i = all.indexOf("\r\n");
      return i < 0 ? -1 : i + 2;
    }, timeoutMs);
    return raw.subarray(0, raw.length - 2).toString("utf8");
  }

  /** The rest of a multi-line response after its first line, as sent (still byte-stuffed), without the final ".CRLF". */
  async rawBody(): Promise<Buffer> {
    const raw = await this.waitFor((all) => {
      if (all.subarray(0, 3).equals(Buffer.from(".\r\n"))) return 3;
      const i = all.indexOf("\r\n.\r\n");
      return i < 0 ? -1 : i + 5;
    });
    return raw.subarray(0, raw.length - 3);
  }

  /** The body of a multi-line response, un-stuffed. */
  async body(): Promise<Buffer> {
    return unstuff(await this.rawBody());
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Sends one command and returns its first reply line. */
  async command(text: string): Promise<string> {
    this.send(`${text}\r\n`);
    return this.line();
  }

  /** STLS already answered +OK: the handshake on the same connection. */
  async upgrade(): Promise<void> {
    const raw = this.socket;
    raw.off("data", this.onData);
    raw.off("end", this.onEnd);
    raw.off("close", this.onEnd);
    const secure = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ socket: raw, rejectUnauthorized: false, servername: "localhost" }, () => resolve(s));
      s.once("error", reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  /** Resolves when the server closed the connection. */
  async closed(timeoutMs = 5_000): Promise<void> {
    await this.waitFor((all) => (this.ended ? all.length : -1), timeoutMs).catch((err: Error) => {
      if (!this.ended) throw err;
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Undoes POP3 byte-stuffing: a line starting ".." loses its first ".". */
export function unstuff(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const nl = body.indexOf(10, start);
    const end = nl < 0 ? body.length : nl + 1;
    out.push(body[start] === 0x2e ? body.subarray(start + 1, end) : body.subarray(start, end));
    start = end;
  }
  return Buffer.concat(out);
}
