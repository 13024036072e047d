import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";

const status = { type: "object", required: ["status"], properties: { status: { type: "string" }, error: { type: "string" } } } as const;

export function healthRoutes(app: FastifyInstance, db: Db): void {
  app.get("/healthz", { schema: { tags: ["health"], summary: "The process is up", security: [], response: { 200: status } } }, async () => ({ status: "ok" }));

  app.get(
    "/readyz",
    { schema: { tags: ["health"], summary: "The database answers", security: [], response: { 200: status, 503: status } } },
    async (req, reply) => {
      try {
        await db.ping();
        return { status: "ok" };
      } catch (err) {
        req.log.warn({ err }, "readiness check failed");
        return reply.code(503).send({ status: "unavailable", error: "database unreachable" });
      }
    },
  );
}
