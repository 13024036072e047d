import type { OutboundConnection } from "./connection.ts";

/** One SMTP connection to one address, owned by at most one delivery at a time. */
export interface Session {
  conn: OutboundConnection;
  /** The address connected to: the pool key. */
  address: string;
  /** Transactions sent on it so far (successful or not). */
  messages: number;
}

interface IdleSession {
  session: Session;
  timer: NodeJS.Timeout;
  onEnd: () => void;
}

/**
 * Idle connections by address. take() hands a connection to exactly one caller (it leaves the pool),
 * put() returns it after a finished transaction; idle connections are closed with QUIT after idleMs,
 * and connections that carried maxMessages transactions are closed instead of kept.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, IdleSession[]>();
  private closed = false;

  constructor(
    private readonly idleMs: number,
    private readonly maxMessages: number,
  ) {}

  take(address: string): Session | undefined {
    const list = this.idle.get(address);
    while (list && list.length > 0) {
      const entry = list.pop()!;
      this.forget(entry);
      if (entry.session.conn.usable()) return entry.session;
      entry.session.conn.close();
    }
    return undefined;
  }

  put(session: Session): void {
    if (this.closed || session.messages >= this.maxMessages || !session.conn.usable()) {
      quit(session);
      return;
    }
    const entry: IdleSession = {
      session,
      timer: setTimeout(() => {
        this.remove(entry);
        quit(session);
      }, this.idleMs),
      onEnd: () => this.remove(entry),
    };
    entry.timer.unref();
    session.conn.once("end", entry.onEnd);
    const list = this.idle.get(session.address) ?? [];
    list.push(entry);
    this.idle.set(session.address, list);
  }

  /** Number of idle connections (for tests and metrics). */
  size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Closes every idle connection; connections in use are closed when they come back. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const entries = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(
      entries.map((entry) => {
        this.forget(entry);
        return new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            entry.session.conn.close();
            resolve();
          }, 2000);
          entry.session.conn.once("end", () => {
            clearTimeout(timer);
            resolve();
          });
          quit(entry.session);
        });
      }),
    );
  }

  private remove(entry: IdleSession): void {
    const list = this.idle.get(entry.session.address);
    const index = list ? list.indexOf(entry) : -1;
    if (list && index >= 0) {
      list.splice(index, 1);
      if (list.length === 0) this.idle.delete(entry.session.address);
    }
    this.forget(entry);
  }

  private forget(entry: IdleSession): void {
    clearTimeout(entry.timer);
    entry.session.conn.removeListener("end", entry.onEnd);
  }
}

function quit(session: Session): void {
  if (session.conn.usable()) session.conn.quit();
  else session.conn.close();
}
