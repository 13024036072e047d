import { createSecureContext, type SecureContext } from "node:tls";
import type { RunningService, ServiceContext, ServiceModule } from "@postline/platform";
import { certificateFor, watchCertificateFiles, type KeyPair } from "@postline/tls";
import { createAuthenticator, type Authenticator } from "@postline/auth";
import { BusChangeNotifier } from "./imap/server/core/notifier.ts";
import { blobCache } from "./imap/server/fetch/blob-cache.ts";
import { ImapServer } from "./imap/server/listener.ts";
import { imapMetrics } from "./metrics.ts";
import { startPop3Listeners } from "./pop3/index.ts";
import { parseImapSettings } from "./settings.ts";

export interface ImapPop3Options {
  /** By default the password authenticator of ./auth/ on the service's database. */
  authenticator?: Authenticator;
}

export function createImapPop3Service(options: ImapPop3Options = {}): ServiceModule {
  return { name: "imap-pop3", start: (ctx) => startImapPop3(ctx, options) };
}

/** IMAP (143 STARTTLS, 993 TLS) and POP3 (110 STLS, 995 TLS) over the mail store (settings: ./settings.ts). */
export const imapPop3Service: ServiceModule = createImapPop3Service();

const secureContext = (pair: KeyPair): SecureContext => createSecureContext({ key: pair.key, cert: pair.cert, minVersion: "TLSv1.2" });

export async function startImapPop3(ctx: ServiceContext, options: ImapPop3Options = {}): Promise<RunningService> {
  const settings = parseImapSettings(ctx.env, ctx.config);
  blobCache.resize(settings.POSTLINE_IMAP_BLOB_CACHE_MB * 1024 * 1024);
  const logger = ctx.logger;
  const metrics = imapMetrics(ctx.registry);
  const cert = await certificateFor(
    { certPath: settings.POSTLINE_TLS_CERT, keyPath: settings.POSTLINE_TLS_KEY, hostname: settings.POSTLINE_HOSTNAME, stem: "imap", expiry: { registry: ctx.registry, service: "imap-pop3", listeners: ["imap", "imaps", "pop3", "pop3s"] } },
    ctx.config,
    logger,
  );
  let current = secureContext(cert.pair);
  const tls = { current: () => current };

  const watcher = watchCertificateFiles(cert, {
    intervalMs: settings.POSTLINE_TLS_RELOAD_INTERVAL_MS,
    logger,
    reloads: metrics.tlsReloads,
    apply: (pair) => (current = secureContext(pair)),
  });

  const authenticator = options.authenticator ?? createAuthenticator({ db: ctx.db, logger, registry: ctx.registry, env: ctx.env });
  const notifier = new BusChangeNotifier(ctx.bus, logger);
  await notifier.start();

  const imap = new ImapServer({ db: ctx.db, blobs: ctx.blobs, bus: ctx.bus, logger, notifier, authenticator, metrics, settings, tls });
  let pop3: Awaited<ReturnType<typeof startPop3Listeners>> | undefined;
  const listening: Record<string, string> = {};
  try {
    listening.imap = await imap.listen({ host: settings.POSTLINE_IMAP_HOST, port: settings.POSTLINE_IMAP_PORT, implicitTls: false });
    listening.imaps = await imap.listen({ host: settings.POSTLINE_IMAP_HOST, port: settings.POSTLINE_IMAPS_PORT, implicitTls: true });
    // The POP3 ports as resolved here (1110/1995 for a normal user in standalone mode), on the IMAP host unless set.
    const pop3Env = {
      ...ctx.env,
      POSTLINE_POP3_HOST: ctx.env.POSTLINE_POP3_HOST ?? settings.POSTLINE_IMAP_HOST,
      POSTLINE_POP3_PORT: String(settings.POSTLINE_POP3_PORT),
      POSTLINE_POP3S_PORT: String(settings.POSTLINE_POP3S_PORT),
    };
    pop3 = await startPop3Listeners({ db: ctx.db, blobs: ctx.blobs, logger, registry: ctx.registry, env: pop3Env, authenticator, notifier, tls });
    Object.assign(listening, pop3.listening);
  } catch (err) {
    watcher?.stop();
    await imap.stop(0);
    await pop3?.stop(0);
    await notifier.stop();
    throw err;
  }
  logger.info({ ...listening, appendLimit: settings.POSTLINE_IMAP_APPEND_LIMIT }, "IMAP/POP3 listening");

  let stopping = false;
  return {
    listening,
    checks: {
      imap: async () => {
        if (stopping || !imap.listening) throw new Error("IMAP listeners are not accepting connections");
      },
    },
    async stop(options) {
      stopping = true;
      watcher?.stop();
      // POSTLINE_IMAP_SHUTDOWN_GRACE_MS when set, else the process's POSTLINE_SHUTDOWN_GRACE_SECONDS.
      const grace = ctx.env.POSTLINE_IMAP_SHUTDOWN_GRACE_MS === undefined && options ? options.graceMs : settings.POSTLINE_IMAP_SHUTDOWN_GRACE_MS;
      await Promise.all([imap.stop(grace), pop3?.stop(grace)]);
      await notifier.stop();
    },
  };
}
