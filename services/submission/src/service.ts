import type { SMTPServerOptions } from "smtp-server";
import { createAuthenticator, type Authenticator } from "@postline/auth";
import type { RunningService, ServiceContext, ServiceModule } from "@postline/platform";
import { certificateFor, watchCertificateFiles, type KeyPair } from "@postline/tls";
import { submissionMetrics } from "./metrics.ts";
import { HourlyLimit } from "./rate.ts";
import { SubmissionServer, type SubmissionDeps } from "./server.ts";
import { parseSubmissionSettings, type SubmissionSettings } from "./settings.ts";

/** Nothing a submission server needs beyond AUTH, MAIL, RCPT, DATA and STARTTLS. */
const DISABLED_COMMANDS = ["XCLIENT", "XFORWARD", "WIZ", "SHELL", "KILL"];

export interface SubmissionOptions {
  /** By default @postline/auth's password authenticator on the service's database. */
  authenticator?: Authenticator;
}

export function createSubmissionService(options: SubmissionOptions = {}): ServiceModule {
  return { name: "submission", start: (ctx) => startSubmission(ctx, options) };
}

/** Message submission: 587 (STARTTLS, then AUTH) and 465 (implicit TLS) for authenticated users (settings: ./settings.ts). */
export const submissionService: ServiceModule = createSubmissionService();

export async function startSubmission(ctx: ServiceContext, options: SubmissionOptions = {}): Promise<RunningService> {
  const settings = parseSubmissionSettings(ctx.env, ctx.config);
  const logger = ctx.logger;
  const metrics = submissionMetrics(ctx.registry);
  const tls = await certificateFor(
    { certPath: settings.POSTLINE_TLS_CERT, keyPath: settings.POSTLINE_TLS_KEY, hostname: settings.POSTLINE_HOSTNAME, stem: "submission", expiry: { registry: ctx.registry, service: "submission", listeners: ["submission", "submissions"] } },
    ctx.config,
    logger,
  );
  const deps: SubmissionDeps = {
    settings,
    db: ctx.db,
    bus: ctx.bus,
    blobs: ctx.blobs,
    logger,
    metrics,
    authenticator: options.authenticator ?? createAuthenticator({ db: ctx.db, logger, registry: ctx.registry, env: ctx.env }),
    limit: new HourlyLimit(ctx.db, settings.POSTLINE_SUBMISSION_MAX_PER_HOUR),
  };
  const starttls = new SubmissionServer(serverOptions(settings, tls.pair, false), deps);
  const implicit = new SubmissionServer(serverOptions(settings, tls.pair, true), deps);
  const servers = [starttls, implicit];

  const watcher = watchCertificateFiles(tls, {
    intervalMs: settings.POSTLINE_TLS_RELOAD_INTERVAL_MS,
    logger,
    reloads: metrics.tlsReloads,
    apply: (pair) => {
      for (const s of servers) s.updateSecureContext({ key: pair.key, cert: pair.cert });
    },
  });

  const listening: Record<string, string> = {};
  try {
    listening.submission = await listen(starttls, settings.POSTLINE_SUBMISSION_HOST, settings.POSTLINE_SUBMISSION_PORT, "smtp");
    listening.submissions = await listen(implicit, settings.POSTLINE_SUBMISSION_HOST, settings.POSTLINE_SUBMISSIONS_PORT, "smtps");
  } catch (err) {
    watcher?.stop();
    await Promise.all(servers.map((s) => s.shutdown(0)));
    throw err;
  }
  logger.info({ ...listening, maxSize: settings.POSTLINE_SUBMISSION_MAX_SIZE, maxPerHour: settings.POSTLINE_SUBMISSION_MAX_PER_HOUR }, "submission listening");

  let stopping = false;
  return {
    listening,
    checks: {
      submission: async () => {
        if (stopping || !servers.every((s) => s.server.listening)) throw new Error("submission listeners are not accepting connections");
      },
    },
    async stop(options) {
      stopping = true;
      watcher?.stop();
      // POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS when set, else the process's POSTLINE_SHUTDOWN_GRACE_SECONDS.
      const grace = ctx.env.POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS === undefined && options ? options.graceMs : settings.POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS;
      await Promise.all(servers.map((s) => s.shutdown(grace)));
    },
  };
}

function serverOptions(settings: SubmissionSettings, pair: KeyPair, secure: boolean): SMTPServerOptions {
  return {
    secure,
    name: settings.POSTLINE_HOSTNAME,
    banner: "Postline submission",
    size: settings.POSTLINE_SUBMISSION_MAX_SIZE,
    maxRecipients: settings.POSTLINE_SUBMISSION_MAX_RECIPIENTS,
    maxClients: settings.POSTLINE_SUBMISSION_MAX_CONNECTIONS,
    maxCommandLength: settings.POSTLINE_SUBMISSION_MAX_LINE_LENGTH,
    socketTimeout: settings.POSTLINE_SUBMISSION_IDLE_TIMEOUT_MS,
    closeTimeout: Math.max(1, settings.POSTLINE_SUBMISSION_SHUTDOWN_GRACE_MS),
    disabledCommands: DISABLED_COMMANDS,
    // AUTH is required before MAIL (530 5.7.0) and offered only once TLS is on (538 before STARTTLS).
    authOptional: false,
    allowInsecureAuth: false,
    authMethods: ["PLAIN", "LOGIN"],
    authRequiredMessage: "Error: authentication required",
    hideENHANCEDSTATUSCODES: false,
    hidePIPELINING: false,
    hide8BITMIME: false,
    hideSMTPUTF8: false,
    disableReverseLookup: true,
    logger: false,
    key: pair.key,
    cert: pair.cert,
    minVersion: "TLSv1.2",
  };
}

function listen(server: SubmissionServer, host: string, port: number, scheme: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.server.once("error", onError);
    server.server.listen(port, host, () => {
      server.server.off("error", onError);
      const a = server.server.address();
      if (!a || typeof a === "string") return reject(new Error("listener has no address"));
      resolve(`${scheme}://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`);
    });
  });
}
