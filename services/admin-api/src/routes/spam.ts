import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";
import { addSpamListEntry, getSpamVerdict, listSpamListEntries, NotFound, removeSpamListEntry, type SpamListKind } from "@postline/directory";
import { errorResponses } from "../schemas.ts";

// The spam filter's allow and block lists (per account, per local domain) and the recorded verdict
// of each message. See docs/spam-filter.md, "Reputation, lists and reply tracking".

const dateTime = { type: "string", format: "date-time" } as const;
const accountAddress = { type: "string", minLength: 3, maxLength: 320, description: "a local account: its own list" } as const;
const domainName = { type: "string", minLength: 1, maxLength: 253, description: "a local domain: the list for all its accounts" } as const;

export const spamListEntrySchema = {
  type: "object",
  required: ["id", "account", "domain", "kind", "type", "value", "comment", "createdAt"],
  properties: {
    id: { type: "integer" },
    account: { type: ["string", "null"], description: "the account whose own list this is" },
    domain: { type: ["string", "null"], description: "the local domain whose list this is" },
    kind: { type: "string", enum: ["allow", "block"] },
    type: { type: "string", enum: ["address", "domain", "ip"] },
    value: { type: "string", description: "normalised: user@example.com, example.com, *.example.com, 192.0.2.7, 192.0.2.0/24, 2001:db8::/32" },
    comment: { type: ["string", "null"] },
    createdAt: dateTime,
  },
} as const;

const symbolSchema = {
  type: "object",
  required: ["name", "score"],
  properties: { name: { type: "string" }, score: { type: "number" }, detail: { type: "string" } },
} as const;

export const spamVerdictSchema = {
  type: "object",
  required: ["mailId", "source", "action", "score", "symbols", "accounts", "authResults", "mailFrom", "recipients", "clientIp", "classifiedAt"],
  properties: {
    mailId: { type: "string" },
    source: { type: "string", enum: ["inbound", "submission"] },
    action: { type: "string", enum: ["deliver", "junk", "quarantine", "reject"] },
    score: { type: "number" },
    symbols: { type: "array", items: symbolSchema, description: "the message-level symbols with their scores and details" },
    accounts: {
      type: "array",
      description: "the verdict of each local recipient account: the message's symbols plus the account's own (lists, reply tracking, its Bayes model)",
      items: {
        type: "object",
        required: ["accountId", "address", "action", "score", "symbols"],
        properties: {
          accountId: { type: "integer" },
          address: { type: ["string", "null"], description: "null when the account was deleted since" },
          action: { type: "string", enum: ["deliver", "junk", "quarantine", "reject"] },
          score: { type: "number" },
          symbols: { type: "array", items: symbolSchema },
        },
      },
    },
    authResults: { type: "string", description: "the Authentication-Results value" },
    mailFrom: { type: "string" },
    recipients: { type: "array", items: { type: "string" } },
    clientIp: { type: "string" },
    classifiedAt: dateTime,
  },
} as const;

const scopeProperties = { account: accountAddress, domain: domainName } as const;

export function spamRoutes(app: FastifyInstance, db: Db): void {
  const tags = ["spam"];

  app.get<{ Querystring: { account?: string; domain?: string } }>(
    "/spam/lists",
    {
      schema: {
        tags,
        summary: "List allow and block entries: of one account, of one local domain, or (neither given) all",
        querystring: { type: "object", additionalProperties: false, properties: scopeProperties },
        response: { 200: { type: "object", required: ["entries"], properties: { entries: { type: "array", items: spamListEntrySchema } } }, ...errorResponses },
      },
    },
    async (req) => ({ entries: await listSpamListEntries(db, req.query) }),
  );

  app.post<{ Body: { account?: string; domain?: string; kind: SpamListKind; value: string; comment?: string } }>(
    "/spam/lists",
    {
      schema: {
        tags,
        summary: "Add an allow or block entry to an account's or a local domain's list",
        description:
          "value: an address (user@example.com), a domain (example.com exactly; *.example.com with its subdomains) or an IP address / CIDR network. " +
          "Allow entries for addresses and domains apply only to authenticated senders (SPF pass of the envelope domain, DMARC or aligned DKIM pass of the From domain); " +
          "block entries match the envelope sender and the From address alike.",
        body: {
          type: "object",
          additionalProperties: false,
          required: ["kind", "value"],
          oneOf: [{ required: ["account"] }, { required: ["domain"] }],
          properties: {
            ...scopeProperties,
            kind: { type: "string", enum: ["allow", "block"] },
            value: { type: "string", minLength: 1, maxLength: 320 },
            comment: { type: "string", maxLength: 500 },
          },
        },
        response: { 201: spamListEntrySchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.code(201).send(await addSpamListEntry(db, req.body)),
  );

  app.delete<{ Params: { id: number } }>(
    "/spam/lists/:id",
    {
      schema: {
        tags,
        summary: "Remove one list entry by its id",
        params: { type: "object", required: ["id"], additionalProperties: false, properties: { id: { type: "integer", minimum: 1 } } },
        response: { 200: spamListEntrySchema, ...errorResponses },
      },
    },
    async (req) => removeSpamListEntry(db, req.params.id),
  );

  app.get<{ Params: { mailId: string } }>(
    "/spam/verdicts/:mailId",
    {
      schema: {
        tags,
        summary: "The recorded verdict of a message: action, score, every symbol with its score and detail, each recipient account's verdict",
        params: {
          type: "object",
          required: ["mailId"],
          additionalProperties: false,
          properties: { mailId: { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$", description: "the message's mail id (ULID)" } },
        },
        response: { 200: spamVerdictSchema, ...errorResponses },
      },
    },
    async (req) => {
      const verdict = await getSpamVerdict(db, req.params.mailId);
      if (!verdict) throw new NotFound(`no recorded verdict for ${req.params.mailId} (unknown, or older than the retention)`);
      return verdict;
    },
  );
}
