import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";
import { addAlias, listAliases, removeAlias, resolveRecipient } from "@postline/directory";
import { aliasSchema, errorResponses, schemas } from "../schemas.ts";
import { aliasView } from "../views.ts";

export function aliasRoutes(app: FastifyInstance, db: Db): void {
  const tags = ["aliases"];

  app.get<{ Querystring: { domain?: string; source?: string } }>(
    "/aliases",
    {
      schema: {
        tags,
        summary: "List aliases (source → destination pairs)",
        querystring: schemas.listAliasesQuery,
        response: { 200: { type: "object", required: ["aliases"], properties: { aliases: { type: "array", items: aliasSchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ aliases: (await listAliases(db, req.query)).map(aliasView) }),
  );

  app.post<{ Body: { source: string; destination: string } }>(
    "/aliases",
    {
      schema: {
        tags,
        summary: "Add a destination to an alias (a source may have several)",
        body: schemas.aliasBody,
        response: { 201: aliasSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send(aliasView(await addAlias(db, req.body.source, req.body.destination))),
  );

  app.delete<{ Querystring: { source: string; destination: string } }>(
    "/aliases",
    {
      schema: {
        tags,
        summary: "Remove one source → destination pair",
        querystring: schemas.aliasQuery,
        response: { 204: { type: "null", description: "removed" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await removeAlias(db, req.query.source, req.query.destination);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: { address: string } }>(
    "/resolve/:address",
    {
      schema: {
        tags: ["routing"],
        summary: "Where mail to this address would go (accounts, aliases, catch-all)",
        params: schemas.resolveParams,
        response: { 200: schemas.resolution, ...errorResponses },
      },
    },
    async (req) => resolveRecipient(db, req.params.address),
  );
}
