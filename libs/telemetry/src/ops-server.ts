import Fastify, { type FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import type { Logger } from "pino";

/** A named dependency check for /readyz: resolves when the dependency is reachable. */
export type ReadinessCheck = () => Promise<void>;

export interface OpsServerOptions {
  host: string;
  port: number;
  registry: Registry;
  checks: Record<string, ReadinessCheck>;
  logger?: Logger;
  checkTimeoutMs?: number;
}

/**
 * The operations endpoints every service serves on its own port:
 * /healthz (the process is alive and its event loop turns), /readyz (every dependency answers:
 * take traffic) and /metrics (Prometheus text format).
 */
export function buildOpsServer(options: Omit<OpsServerOptions, "host" | "port">): FastifyInstance {
  const app = Fastify({ logger: false });
  const timeout = options.checkTimeoutMs ?? 2000;
  let draining = false;

  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_req, reply) => {
    const results: Record<string, string> = {};
    await Promise.all(
      Object.entries(options.checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeout);
          results[name] = "ok";
        } catch (err) {
          results[name] = (err as Error).message || "failed";
        }
      }),
    );
    const ready = !draining && Object.values(results).every((r) => r === "ok");
    if (!ready) options.logger?.warn({ checks: results, draining }, "not ready");
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : draining ? "draining" : "not ready", checks: results });
  });

  app.get("/metrics", async (_req, reply) => {
    reply.header("content-type", options.registry.contentType);
    return options.registry.metrics();
  });

  // A service shutting down reports not-ready first, so load balancers stop sending it work.
  app.decorate("drain", () => {
    draining = true;
  });
  return app;
}

export async function startOpsServer(options: OpsServerOptions): Promise<{ app: FastifyInstance; port: number; drain(): void }> {
  const app = buildOpsServer(options);
  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { app, port, drain: () => (app as unknown as { drain(): void }).drain() };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
