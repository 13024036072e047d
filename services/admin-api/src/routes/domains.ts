import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";
import { addDomain, getDomain, listDomains, removeDomain, setCatchAll } from "@postline/directory";
import { domainSchema, errorResponses, schemas } from "../schemas.ts";
import { domainView } from "../views.ts";

export function domainRoutes(app: FastifyInstance, db: Db): void {
  const tags = ["domains"];

  app.get(
    "/domains",
    { schema: { tags, summary: "List the local domains", response: { 200: { type: "object", required: ["domains"], properties: { domains: { type: "array", items: domainSchema } } }, ...errorResponses } } },
    async () => ({ domains: (await listDomains(db)).map(domainView) }),
  );

  app.post<{ Body: { name: string; catchAll?: string | null } }>(
    "/domains",
    { schema: { tags, summary: "Add a local domain", body: schemas.createDomainBody, response: { 201: domainSchema, ...errorResponses } } },
    async (req, reply) => reply.code(201).send(domainView(await addDomain(db, req.body.name, { catchAll: req.body.catchAll ?? null }))),
  );

  app.get<{ Params: { name: string } }>(
    "/domains/:name",
    { schema: { tags, summary: "Get one domain", params: schemas.domainParams, response: { 200: domainSchema, ...errorResponses } } },
    async (req) => domainView(await getDomain(db, req.params.name)),
  );

  app.patch<{ Params: { name: string }; Body: { catchAll: string | null } }>(
    "/domains/:name",
    {
      schema: {
        tags,
        summary: "Set or clear the domain's catch-all address",
        params: schemas.domainParams,
        body: schemas.updateDomainBody,
        response: { 200: domainSchema, ...errorResponses },
      },
    },
    async (req) => domainView(await setCatchAll(db, req.params.name, req.body.catchAll)),
  );

  app.delete<{ Params: { name: string }; Querystring: { force?: boolean } }>(
    "/domains/:name",
    {
      schema: {
        tags,
        summary: "Remove a domain (409 while it has accounts or aliases, unless force=true)",
        params: schemas.domainParams,
        querystring: schemas.deleteDomainQuery,
        response: { 204: { type: "null", description: "removed" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await removeDomain(db, req.params.name, { force: req.query.force ?? false });
      return reply.code(204).send();
    },
  );
}
