import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { SecureContext } from "node:tls";
import type { Registry } from "prom-client";
import type { BlobStore } from "@postline/blobstore";
import type { Env } from "@postline/config";
import type { Db } from "@postline/db";
import type { Logger } from "@postline/telemetry";
import type { Authenticator } from "@postline/auth";
import type { ChangeNotifier } from "../imap/server/core/op.ts";
import { pop3Metrics } from "./metrics.ts";
import { Pop3Session, type Pop3Deps } from "./session.ts";
import { pop3Settings } from "./settings.ts";

export { pop3Schema, pop3Settings, type Pop3Settings } from "./settings.ts";
export { DotStuffer } from "./dot-stuffer.ts";

export interface Pop3Listeners {
  /** `{ pop3: "pop3://127.0.0.1:<port>", pop3s: "pop3s://127.0.0.1:<port>" }` with the ports bound. */
  listening: Record<string, string>;
  /**
   * Stops accepting, lets sessions finish for up to `graceMs` (a client may still QUIT), then
   * closes the rest: between commands with "-ERR [SYS/TEMP]", inside a command without a word.
   * DELEs of a session closed this way are not applied.
   */
  stop(graceMs: number): Promise<void>;
}

/** POP3 with STLS (POSTLINE_POP3_PORT, 110) and over implicit TLS (POSTLINE_POP3S_PORT, 995). */
export async function startPop3Listeners(deps: {
  db: Db;
  blobs: BlobStore;
  logger: Logger;
  registry: Registry;
  env: Env;
  authenticator: Authenticator;
  notifier: ChangeNotifier;
  tls: { current(): SecureContext };
}): Promise<Pop3Listeners> {
  const settings = pop3Settings(deps.env);
  const logger = deps.logger.child({ component: "pop3" });
  const sessionDeps: Pop3Deps = {
    db: deps.db,
    blobs: deps.blobs,
    logger,
    authenticator: deps.authenticator,
    notifier: deps.notifier,
    tls: deps.tls,
    settings,
    metrics: pop3Metrics(deps.registry),
  };
  const sessions = new Set<Pop3Session>();
  let stopping = false;

  const accept = (implicitTls: boolean) => (socket: Socket) => {
    if (stopping) {
      socket.destroy();
      return;
    }
    const session = new Pop3Session(socket, sessionDeps, implicitTls);
    sessions.add(session);
    sessionDeps.metrics.sessions.inc();
    sessionDeps.metrics.active.inc();
    void session.closed.then(() => {
      sessions.delete(session);
      sessionDeps.metrics.active.dec();
    });
    session.start();
  };

  const plain = createServer(accept(false));
  const secure = createServer(accept(true));
  const servers = [plain, secure];
  try {
    await listen(plain, settings.host, settings.port);
    await listen(secure, settings.host, settings.tlsPort);
  } catch (err) {
    await Promise.all(servers.map((s) => closeServer(s)));
    throw err;
  }
  const shown = settings.host === "0.0.0.0" || settings.host === "::" ? "127.0.0.1" : settings.host.includes(":") ? `[${settings.host}]` : settings.host;
  const listening = {
    pop3: `pop3://${shown}:${(plain.address() as AddressInfo).port}`,
    pop3s: `pop3s://${shown}:${(secure.address() as AddressInfo).port}`,
  };
  logger.info({ listening }, "pop3 listening");

  return {
    listening,
    async stop(graceMs: number) {
      stopping = true;
      const closing = servers.map((s) => closeServer(s));
      const allClosed = () => Promise.all([...sessions].map((s) => s.closed));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([allClosed(), new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const s of sessions) s.shutdown();
      await allClosed();
      await Promise.all(closing);
    },
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
}
