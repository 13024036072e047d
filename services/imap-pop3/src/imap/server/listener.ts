import { createServer, type Server, type Socket } from "node:net";
import { TLSSocket } from "node:tls";
import { ImapSession, tlsHandshake, type SessionDeps } from "./session.ts";

/** An IMAP port: plain with STARTTLS (143) or implicit TLS (993). */
export interface ImapListenerOptions {
  host: string;
  port: number;
  implicitTls: boolean;
}

const clientIpOf = (socket: Socket) => (socket.remoteAddress ?? "unknown").replace(/^::ffff:/, "");

/**
 * Accepts IMAP connections on any number of ports and keeps the sessions: the per-address and total
 * connection limits, and an orderly stop (no new connections, BYE to sessions waiting for their
 * client, the others after their command, then whatever is left is cut after the grace period).
 */
export class ImapServer {
  private readonly servers: Server[] = [];
  private readonly sessions = new Set<ImapSession>();
  private readonly perIp = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private stopping = false;

  constructor(private readonly deps: SessionDeps) {}

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Starts listening; resolves with the URL (`imap://host:port` or `imaps://…`) of the real port. */
  async listen(options: ImapListenerOptions): Promise<string> {
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, options.implicitTls));
    server.on("error", (err) => this.deps.logger.error({ err }, "IMAP listener error"));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.servers.push(server);
    const a = server.address();
    const scheme = options.implicitTls ? "imaps" : "imap";
    if (!a || typeof a === "string") return `${scheme}://${String(a)}`;
    return `${scheme}://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
  }

  get listening(): boolean {
    return !this.stopping && this.servers.length > 0 && this.servers.every((s) => s.listening);
  }

  private accept(socket: Socket, implicitTls: boolean): void {
    const { settings, metrics, logger } = this.deps;
    socket.on("error", (err) => logger.debug({ err }, "IMAP connection error"));
    const ip = clientIpOf(socket);
    const refuse = (result: string, text: string) => {
      metrics.sessions.inc({ result });
      // In the clear even on the implicit-TLS port would be wrong; there, just close.
      if (!implicitTls) socket.end(`* BYE ${text}\r\n`);
      else socket.destroy();
    };
    if (this.stopping) return refuse("refused_stopping", "Server shutting down");
    if (this.connections >= settings.POSTLINE_IMAP_MAX_CONNECTIONS) return refuse("refused_total", "Too many connections");
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= settings.POSTLINE_IMAP_MAX_CONNECTIONS_PER_IP) return refuse("refused_per_ip", "Too many connections from your address");

    this.connections++;
    this.perIp.set(ip, fromIp + 1);
    // Kept until the socket is really closed, so stop() can cut one that lingers after its session ended.
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    const release = () => {
      this.connections--;
      const n = (this.perIp.get(ip) ?? 1) - 1;
      if (n <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, n);
    };
    void this.serve(socket, ip, implicitTls)
      .catch((err) => logger.error({ err }, "IMAP connection failed"))
      .finally(release);
  }

  private async serve(raw: Socket, ip: string, implicitTls: boolean): Promise<void> {
    const { metrics, logger } = this.deps;
    // Responses are written whole (one write per command, see ImapSession): nothing to gain from Nagle's delay.
    raw.setNoDelay(true);
    let socket: Socket = raw;
    if (implicitTls) {
      const secure = new TLSSocket(raw, { isServer: true, secureContext: this.deps.tls.current() });
      secure.on("error", () => {});
      try {
        await tlsHandshake(secure);
      } catch (err) {
        metrics.sessions.inc({ result: "tls_failed" });
        logger.debug({ err, ip }, "IMAPS handshake failed");
        secure.destroy();
        return;
      }
      socket = secure;
    }
    if (this.stopping) {
      socket.end("* BYE Server shutting down\r\n");
      return;
    }
    const session = new ImapSession(socket, this.deps, { secure: implicitTls, clientIp: ip });
    this.sessions.add(session);
    metrics.sessions.inc({ result: "accepted" });
    metrics.activeSessions.inc();
    try {
      await session.run();
      await session.done;
    } finally {
      this.sessions.delete(session);
      metrics.activeSessions.dec();
    }
  }

  /** Stops accepting, says BYE, waits up to `graceMs` for commands in flight, then cuts what is left. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + graceMs;
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    const sessions = [...this.sessions];
    for (const s of sessions) s.shutdown();
    const all = Promise.all(sessions.map((s) => s.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const s of this.sessions) s.destroy();
    // Ended sessions' sockets get until the deadline to flush their BYE and close.
    while (this.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }
}
