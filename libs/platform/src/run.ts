import { ConfigError, effectiveEnv, loadConfig, parseConfig, platformSchema, z } from "@postline/config";
import { createLogger, metricsRegistry, startOpsServer, startTracing } from "@postline/telemetry";
import { openAdapters } from "./adapters.ts";
import type { RunningService, ServiceModule } from "./service.ts";

export interface RunOptions {
  /** The name in logs, traces and metrics: "admin-api", or "standalone" for all in one process. */
  name: string;
  services: ServiceModule[];
  /** Called once everything listens, e.g. to print the ports. */
  onReady?(info: { ops: string; services: Record<string, Record<string, string>> }): void;
}

/**
 * POSTLINE_SHUTDOWN_GRACE_SECONDS: how long SMTP, IMAP and POP3 sessions get to finish after SIGTERM
 * before the rest are told 421/BYE and closed (a service's own *_SHUTDOWN_GRACE_MS overrides it).
 * Below Kubernetes' default terminationGracePeriodSeconds (30) so the process exits before SIGKILL.
 */
const shutdownSchema = z.object({
  POSTLINE_SHUTDOWN_GRACE_SECONDS: z.coerce.number({ message: "must be a number of seconds" }).min(0).max(3600).default(25),
});

/** After the grace period, what is left (closing adapters, committing offsets) gets this much more before a forced exit. */
const FORCED_EXIT_MARGIN_MS = 10_000;

/**
 * The life of a Postline process: configuration, logs, traces, adapters, the ops server, the
 * services; on SIGTERM or SIGINT the reverse: not-ready first, then stop the services (they finish
 * what is in flight, all at once, each up to the grace period), then close the adapters (the bus
 * commits consumer offsets); exit 0. A stop that hangs past grace + 10 s exits 1.
 */
export async function runServices(options: RunOptions): Promise<{ shutdown(): Promise<void> }> {
  const env = effectiveEnv();
  const config = loadConfig(platformSchema, env);
  const graceMs = parseConfig(shutdownSchema, env).POSTLINE_SHUTDOWN_GRACE_SECONDS * 1000;
  const logger = createLogger(options.name, config.POSTLINE_LOG_LEVEL);
  const tracing = await startTracing(`postline-${options.name}`, config.OTEL_EXPORTER_OTLP_ENDPOINT);
  const registry = metricsRegistry();
  const adapters = await openAdapters(config, options.name, logger, registry);
  const ctx = { config, env, logger, registry, db: adapters.db, bus: adapters.bus, blobs: adapters.blobs };

  const running: { name: string; service: RunningService }[] = [];
  let ops: Awaited<ReturnType<typeof startOpsServer>> | undefined;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = () =>
    (shuttingDown ??= (async () => {
      logger.info({ graceSeconds: graceMs / 1000 }, "shutting down");
      ops?.drain();
      // Every service stops accepting at once; each lets its sessions finish up to the grace period.
      await Promise.all(running.map(({ name, service }) => service.stop({ graceMs }).catch((err) => logger.error({ err, service: name }, "stop failed"))));
      await ops?.app.close();
      await adapters.close().catch((err) => logger.error({ err }, "closing adapters failed"));
      await tracing.shutdown().catch(() => {});
      logger.info("stopped");
    })());

  try {
    for (const module of options.services) {
      running.push({ name: module.name, service: await module.start({ ...ctx, logger: logger.child({ component: module.name }) }) });
    }
    const checks = {
      db: () => adapters.db.ping(),
      bus: () => adapters.bus.ping(),
      blobs: () => adapters.blobs.ping(),
      ...Object.assign({}, ...running.map((r) => r.service.checks ?? {})),
    };
    ops = await startOpsServer({ host: config.POSTLINE_OPS_HOST, port: config.POSTLINE_OPS_PORT, registry, checks, logger });
  } catch (err) {
    await shutdown();
    if (err instanceof ConfigError) {
      // A service's own settings are read at its start; a bad one ends the process like the platform's.
      process.stderr.write(`postline: configuration error: ${err.message}\n`);
      process.exit(78);
    }
    logger.fatal({ err }, "start-up failed");
    throw err;
  }

  const adminUrl = running.find((r) => r.service.adminUrl)?.service.adminUrl;
  if (adminUrl) adapters.db.lock?.setAdminUrl(adminUrl);
  const services = Object.fromEntries(running.map((r) => [r.name, r.service.listening]));
  const opsAddress = `http://${config.POSTLINE_OPS_HOST}:${ops.port}`;
  logger.info({ ops: opsAddress, services }, "ready");
  options.onReady?.({ ops: opsAddress, services });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, "signal received");
      setTimeout(() => {
        logger.fatal({ graceSeconds: graceMs / 1000 }, "graceful stop did not finish in time; exiting");
        process.exit(1);
      }, graceMs + FORCED_EXIT_MARGIN_MS).unref();
      void shutdown().then(() => process.exit(0));
    });
  }
  return { shutdown };
}
