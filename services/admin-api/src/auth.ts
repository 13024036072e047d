import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * An onRequest hook that lets through only `Authorization: Bearer <token>`. Both sides are hashed
 * first so the comparison takes constant time whatever the lengths.
 */
export function bearerAuth(token: string) {
  const expected = createHash("sha256").update(token).digest();
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    const m = header ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header) : null;
    if (m && timingSafeEqual(createHash("sha256").update(m[1]!).digest(), expected)) return;
    const challenge = header ? 'Bearer realm="postline-admin", error="invalid_token"' : 'Bearer realm="postline-admin"';
    return reply
      .code(401)
      .header("www-authenticate", challenge)
      .send({ error: { code: "unauthorized", message: header ? "invalid bearer token" : "missing bearer token (Authorization: Bearer <POSTLINE_ADMIN_TOKEN>)" } });
  };
}
