import type { FastifyError, FastifyInstance } from "fastify";
import { DirectoryError, type DirectoryErrorCode } from "@postline/directory";

const STATUS: Record<DirectoryErrorCode, number> = {
  invalid: 400,
  not_found: 404,
  domain_not_found: 404,
  already_exists: 409,
  domain_not_empty: 409,
};

/** Every failure leaves as `{ error: { code, message } }` with the matching status. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof DirectoryError) {
      return reply.code(STATUS[err.code]).send({ error: { code: err.code, message: err.message } });
    }
    if (err.validation) {
      return reply.code(400).send({ error: { code: "invalid_request", message: err.message } });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      return reply.code(status).send({ error: { code: err.code ? err.code.toLowerCase() : "bad_request", message: err.message } });
    }
    req.log.error({ err }, "request failed");
    return reply.code(500).send({ error: { code: "internal", message: "internal server error" } });
  });
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({ error: { code: "not_found", message: `no route ${req.method} ${req.url.split("?")[0]}` } });
  });
}
