import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import swagger from "@fastify/swagger";
import type { Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import { bearerAuth } from "./auth.ts";
import { installErrorHandling } from "./errors.ts";
import { accountRoutes } from "./routes/accounts.ts";
import { aliasRoutes } from "./routes/aliases.ts";
import { dkimRoutes } from "./routes/dkim.ts";
import { domainRoutes } from "./routes/domains.ts";
import { healthRoutes } from "./routes/health.ts";
import { quarantineRoutes } from "./routes/quarantine.ts";
import { queueRoutes } from "./routes/queue.ts";
import { spamRoutes } from "./routes/spam.ts";

export interface AdminApiOptions {
  db: Db;
  /** The bearer token every /v1 request must carry. */
  token: string;
  /** The event bus, for releasing quarantined messages and retrying queued ones; without it those answer 503. */
  bus?: Bus;
  /** A pino logger; without one the API does not log. */
  logger?: FastifyBaseLogger;
}

/**
 * The admin API as a fastify instance that is not listening yet: call `listen` to serve it or
 * `inject` to test it. /v1 needs the bearer token; /healthz, /readyz and /openapi.json do not.
 */
export function buildAdminApi(options: AdminApiOptions): FastifyInstance {
  if (!options.token) throw new Error("the admin API needs a non-empty token");
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: 64 * 1024,
    // Unknown body or query properties are an error (a typo like "quota" must not be ignored).
    ajv: { customOptions: { removeAdditional: false } },
  }) as unknown as FastifyInstance;
  installErrorHandling(app);

  // Plugins load in order: swagger is in place before the routes so it sees all of them.
  app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Postline admin API", version: "1.0.0", description: "Domains, accounts and aliases of a Postline installation." },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
      security: [{ bearerAuth: [] }],
    },
  });

  app.register(async (v1) => {
    v1.addHook("onRequest", bearerAuth(options.token));
    domainRoutes(v1, options.db);
    accountRoutes(v1, options.db);
    aliasRoutes(v1, options.db);
    dkimRoutes(v1, options.db);
    quarantineRoutes(v1, options.db, options.bus);
    queueRoutes(v1, options.db, options.bus);
    spamRoutes(v1, options.db);
  }, { prefix: "/v1" });

  app.register(async (open) => {
    healthRoutes(open, options.db);
    open.get("/openapi.json", { schema: { hide: true } }, async () => open.swagger());
  });

  return app;
}
