import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";
import { createAccount, deleteAccount, getAccount, listAccounts, updateAccount, type AccountChanges } from "@postline/directory";
import { accountSchema, errorResponses, schemas } from "../schemas.ts";
import { accountView } from "../views.ts";

export function accountRoutes(app: FastifyInstance, db: Db): void {
  const tags = ["accounts"];

  app.get<{ Querystring: { domain?: string; after?: string; limit: number } }>(
    "/accounts",
    {
      schema: {
        tags,
        summary: "List accounts in address order, a page at a time",
        querystring: schemas.listAccountsQuery,
        response: {
          200: {
            type: "object",
            required: ["accounts", "next"],
            properties: {
              accounts: { type: "array", items: accountSchema },
              next: { type: ["string", "null"], description: "pass as `after` for the next page; null on the last page" },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { domain, after, limit } = req.query;
      // One extra row tells whether there is a next page.
      const rows = await listAccounts(db, { domain, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { accounts: page.map(accountView), next: rows.length > limit ? page[page.length - 1]!.address : null };
    },
  );

  app.post<{ Body: { address: string; password: string; quotaBytes?: number | null } }>(
    "/accounts",
    {
      schema: {
        tags,
        summary: "Create an account with its default mailboxes (INBOX, Drafts, Sent, Junk, Trash, Archive)",
        body: schemas.createAccountBody,
        response: { 201: accountSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send(accountView(await createAccount(db, req.body))),
  );

  app.get<{ Params: { address: string } }>(
    "/accounts/:address",
    { schema: { tags, summary: "Get one account", params: schemas.accountParams, response: { 200: accountSchema, ...errorResponses } } },
    async (req) => accountView(await getAccount(db, req.params.address)),
  );

  app.patch<{ Params: { address: string }; Body: AccountChanges }>(
    "/accounts/:address",
    {
      schema: {
        tags,
        summary: "Change an account's password, quota or disabled flag",
        params: schemas.accountParams,
        body: schemas.updateAccountBody,
        response: { 200: accountSchema, ...errorResponses },
      },
    },
    async (req) => accountView(await updateAccount(db, req.params.address, req.body)),
  );

  app.delete<{ Params: { address: string } }>(
    "/accounts/:address",
    {
      schema: {
        tags,
        summary: "Delete an account with all its mail",
        params: schemas.accountParams,
        response: { 204: { type: "null", description: "deleted" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await deleteAccount(db, req.params.address);
      return reply.code(204).send();
    },
  );
}
