import type { FastifyInstance } from "fastify";
import { Topics, type Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import { NotFound } from "@postline/directory";
import { mailClassified, publishEvent } from "@postline/events";
import { discardQuarantine, getQuarantine, listQuarantine, releaseQuarantine, type QuarantineEntry } from "@postline/mailstore";
import { errorResponses, errorSchema } from "../schemas.ts";

// Messages the spam filter's verdict kept out of the mailboxes (quarantine, or reject after the
// message was accepted). Listing, details, release (delivered normally) and discard.

const dateTime = { type: "string", format: "date-time" } as const;
const nullableDateTime = { type: ["string", "null"], format: "date-time" } as const;
const mailId = { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$", description: "the message's queue id (ULID)" } as const;

const symbolSchema = {
  type: "object",
  required: ["name", "score"],
  properties: { name: { type: "string" }, score: { type: "number" }, detail: { type: "string" } },
} as const;

export const quarantineEntrySchema = {
  type: "object",
  required: ["mailId", "source", "sender", "recipients", "action", "score", "verdict", "size", "subject", "from", "receivedAt", "quarantinedAt", "releasedAt", "releasedBy"],
  properties: {
    mailId: { type: "string" },
    source: { type: "string", enum: ["inbound", "submission"] },
    sender: { type: "string", description: "envelope sender; empty for the null sender" },
    recipients: { type: "array", items: { type: "string" }, description: "envelope recipients" },
    action: { type: "string", enum: ["quarantine", "reject"], description: "the verdict's action" },
    score: { type: "number" },
    verdict: {
      type: "object",
      required: ["action", "score", "symbols", "authResults"],
      properties: {
        action: { type: "string" },
        score: { type: "number" },
        symbols: { type: "array", items: symbolSchema },
        authResults: { type: "string", description: "the Authentication-Results value" },
      },
    },
    size: { type: "integer" },
    subject: { type: ["string", "null"] },
    from: { type: ["string", "null"] },
    receivedAt: dateTime,
    quarantinedAt: dateTime,
    releasedAt: nullableDateTime,
    releasedBy: { type: ["string", "null"] },
  },
} as const;

export interface QuarantineView {
  mailId: string;
  source: string;
  sender: string;
  recipients: string[];
  action: string;
  score: number;
  verdict: QuarantineEntry["verdict"];
  size: number;
  subject: string | null;
  from: string | null;
  receivedAt: string;
  quarantinedAt: string;
  releasedAt: string | null;
  releasedBy: string | null;
}

export function quarantineView(e: QuarantineEntry): QuarantineView {
  return {
    mailId: e.mailId,
    source: e.source,
    sender: e.sender,
    recipients: e.recipients,
    action: e.action,
    score: e.score,
    verdict: e.verdict,
    size: e.blob.size,
    subject: e.subject,
    from: e.from,
    receivedAt: e.receivedAt.toISOString(),
    quarantinedAt: e.createdAt.toISOString(),
    releasedAt: e.releasedAt?.toISOString() ?? null,
    releasedBy: e.releasedBy,
  };
}

const params = { type: "object", required: ["mailId"], properties: { mailId }, additionalProperties: false } as const;

export function quarantineRoutes(app: FastifyInstance, db: Db, bus: Bus | undefined): void {
  const tags = ["quarantine"];

  app.get<{ Querystring: { status: "held" | "released" | "all"; recipient?: string; after?: string; limit: number } }>(
    "/quarantine",
    {
      schema: {
        tags,
        summary: "List quarantined messages, newest first, a page at a time",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: { type: "string", enum: ["held", "released", "all"], default: "held", description: "held: not released yet" },
            recipient: { type: "string", minLength: 3, maxLength: 320, description: "only messages with this envelope recipient" },
            after: { ...mailId, description: "return entries after this one (the previous page's `next`)" },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["quarantine", "next"],
            properties: {
              quarantine: { type: "array", items: quarantineEntrySchema },
              next: { type: ["string", "null"], description: "pass as `after` for the next page; null on the last page" },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { status, recipient, after, limit } = req.query;
      const rows = await listQuarantine(db, { status, recipient, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { quarantine: page.map(quarantineView), next: rows.length > limit ? page[page.length - 1]!.mailId : null };
    },
  );

  app.get<{ Params: { mailId: string } }>(
    "/quarantine/:mailId",
    { schema: { tags, summary: "One quarantined message with its verdict (symbols, Authentication-Results)", params, response: { 200: quarantineEntrySchema, ...errorResponses } } },
    async (req) => quarantineView(await mustGet(db, req.params.mailId)),
  );

  app.post<{ Params: { mailId: string }; Body: { by?: string } | undefined }>(
    "/quarantine/:mailId/release",
    {
      schema: {
        tags,
        summary: "Release a message: it is delivered to its recipients like any other mail (with the symbol QUARANTINE_RELEASED)",
        description: "Releasing again re-publishes it; delivery stores each copy once, so this is how a release whose publish failed is retried.",
        params,
        body: { type: "object", additionalProperties: false, properties: { by: { type: "string", minLength: 1, maxLength: 200, description: "who releases it (recorded)" } } },
        response: { 200: quarantineEntrySchema, ...errorResponses, 503: errorSchema },
      },
      // The body is optional: a bare POST is a release by "admin-api".
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      if (!bus) return reply.code(503).send({ error: { code: "unavailable", message: "releasing needs the event bus, which this admin API was started without" } });
      const released = await releaseQuarantine(db, req.params.mailId, req.body?.by ?? "admin-api");
      if (!released) throw new NotFound(`no quarantined message ${req.params.mailId}`);
      await publishEvent(bus, Topics.mailClassified, mailClassified, released.entry.mailId, released.event);
      req.log.info({ mailId: released.entry.mailId, by: released.entry.releasedBy }, "quarantined message released");
      return quarantineView(released.entry);
    },
  );

  app.delete<{ Params: { mailId: string } }>(
    "/quarantine/:mailId",
    {
      schema: {
        tags,
        summary: "Discard a quarantined message (its content is collected later)",
        params,
        response: { 204: { type: "null", description: "discarded" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const outcome = await discardQuarantine(db, req.params.mailId);
      if (outcome === "not_found") throw new NotFound(`no quarantined message ${req.params.mailId}`);
      if (outcome === "release_pending") {
        return reply.code(409).send({ error: { code: "release_pending", message: `message ${req.params.mailId} was released and is not delivered yet` } });
      }
      req.log.info({ mailId: req.params.mailId }, "quarantined message discarded");
      return reply.code(204).send();
    },
  );
}

async function mustGet(db: Db, mailId: string): Promise<QuarantineEntry> {
  const entry = await getQuarantine(db, mailId);
  if (!entry) throw new NotFound(`no quarantined message ${mailId}`);
  return entry;
}
