import type { FastifyInstance } from "fastify";
import { retryTopic, type Bus } from "@postline/bus";
import type { Db } from "@postline/db";
import { NotFound } from "@postline/directory";
import { deliveryRetry, encodeEvent } from "@postline/events";
import {
  OUTBOUND_STATUSES,
  deleteOutbound,
  getOutbound,
  listOutbound,
  outboundSummary,
  retryOutbound,
  type OutboundRecipient,
  type OutboundStatus,
  type QueueActionOutcome,
} from "@postline/mailstore";
import { errorResponses, errorSchema, queueMessageSchema, queueRecipientSchema, queueSummarySchema } from "../schemas.ts";
import { queueMessageView, queueRecipientView, queueSummaryView } from "../views.ts";

// The outbound queue: remote recipients waiting for (or done with) delivery. Listing, a summary
// by status and destination, one message's details, "retry now" and delete. Nothing here sends
// mail: a retry makes the recipients due and publishes delivery.retry records for the delivery
// workers, which claim due recipients.

const mailId = { type: "string", pattern: "^[0-9A-HJKMNP-TV-Z]{26}$", description: "the message's queue id (ULID)" } as const;
const recipient = { type: "string", minLength: 3, maxLength: 320, description: "only this recipient of the message" } as const;
const statusList = `^(all|(${OUTBOUND_STATUSES.join("|")})(,(${OUTBOUND_STATUSES.join("|")}))*)$`;

const params = { type: "object", required: ["mailId"], properties: { mailId }, additionalProperties: false } as const;
const recipientsAnswer = (key: string, description: string) =>
  ({ type: "object", required: [key], properties: { [key]: { type: "array", items: queueRecipientSchema, description } } }) as const;

/** `queued,deferred` → the statuses; `all` → every status. */
function parseStatuses(value: string): OutboundStatus[] | "all" {
  const list = value.split(",");
  return list.includes("all") ? "all" : [...new Set(list as OutboundStatus[])];
}

export function queueRoutes(app: FastifyInstance, db: Db, bus: Bus | undefined): void {
  const tags = ["queue"];

  app.get<{ Querystring: { status: string; domain?: string; before?: string; limit: number } }>(
    "/queue",
    {
      schema: {
        tags,
        summary: "List remote recipients of the outbound queue, newest first, a page at a time",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            status: {
              type: "string",
              pattern: statusList,
              default: "queued,deferred",
              description: "comma-separated statuses (queued, deferred, delivered, bounced, deleted) or all; default the live queue: queued,deferred",
            },
            domain: { type: "string", minLength: 1, maxLength: 253, description: "only recipients in this destination domain" },
            before: { type: "string", pattern: "^[0-9]{1,18}$", description: "return recipients older than this cursor (the previous page's `next`)" },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: "object",
            required: ["queue", "next"],
            properties: {
              queue: { type: "array", items: queueRecipientSchema },
              next: { type: ["string", "null"], description: "pass as `before` for the next page; null on the last page" },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const { status, domain, before, limit } = req.query;
      const rows = await listOutbound(db, { statuses: parseStatuses(status), domain, before, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { queue: page.map(queueRecipientView), next: rows.length > limit ? page[page.length - 1]!.cursor : null };
    },
  );

  app.get<{ Querystring: { top: number } }>(
    "/queue/summary",
    {
      schema: {
        tags,
        summary: "Remote recipients by status, and the destination domains where most of the live queue waits",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { top: { type: "integer", minimum: 1, maximum: 1000, default: 10, description: "how many domains" } },
        },
        response: { 200: queueSummarySchema, ...errorResponses },
      },
    },
    async (req) => queueSummaryView(await outboundSummary(db, { topDomains: req.query.top })),
  );

  app.get<{ Params: { mailId: string } }>(
    "/queue/:mailId",
    { schema: { tags, summary: "One outbound message: its envelope and every remote recipient's status", params, response: { 200: queueMessageSchema, ...errorResponses } } },
    async (req) => {
      const message = await getOutbound(db, req.params.mailId);
      if (!message) throw new NotFound(`no outbound message ${req.params.mailId}`);
      return queueMessageView(message);
    },
  );

  app.post<{ Params: { mailId: string }; Body: { recipient?: string } | undefined }>(
    "/queue/:mailId/retry",
    {
      schema: {
        tags,
        summary: "Retry now: the message's queued and deferred recipients (or the one given) become due and are handed to the delivery workers",
        description: "A recipient whose SMTP transaction is under way is left to it. Answers the recipients scheduled; 409 when none is waiting.",
        params,
        body: { type: "object", additionalProperties: false, properties: { recipient } },
        response: { 200: recipientsAnswer("scheduled", "the recipients made due"), ...errorResponses, 503: errorSchema },
      },
      // The body is optional: a bare POST retries every waiting recipient.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      if (!bus) return reply.code(503).send({ error: { code: "unavailable", message: "retrying needs the event bus, which this admin API was started without" } });
      const result = await retryOutbound(db, req.params.mailId, { recipient: req.body?.recipient });
      const done = outcome(result, req.params.mailId, req.body?.recipient, "retried");
      if ("error" in done) return reply.code(409).send(done);
      const events = result.outcome === "done" ? result.value : [];
      await bus.produce(retryTopic("1m"), events.map((e) => ({ key: e.id, value: encodeEvent(deliveryRetry, e) })));
      req.log.info({ mailId: req.params.mailId, recipients: events.map((e) => e.rcpt) }, "outbound recipients retried now");
      return { scheduled: done.recipients.map(queueRecipientView) };
    },
  );

  app.delete<{ Params: { mailId: string }; Querystring: { recipient?: string } }>(
    "/queue/:mailId",
    {
      schema: {
        tags,
        summary: "Delete the message's queued and deferred recipients (or the one given) from the queue, without a DSN",
        description: "They become `deleted` (last error 'deleted by an operator'). Answers the recipients deleted; 409 when none is waiting.",
        params,
        querystring: { type: "object", additionalProperties: false, properties: { recipient } },
        response: { 200: recipientsAnswer("deleted", "the recipients deleted"), ...errorResponses },
      },
    },
    async (req, reply) => {
      const result = await deleteOutbound(db, req.params.mailId, { recipient: req.query.recipient });
      const done = outcome(result, req.params.mailId, req.query.recipient, "deleted");
      if ("error" in done) return reply.code(409).send(done);
      req.log.info({ mailId: req.params.mailId, recipients: done.recipients.map((r) => r.recipient) }, "outbound recipients deleted");
      return { deleted: done.recipients.map(queueRecipientView) };
    },
  );
}

/** not_found → 404 (thrown); nothing_waiting → the 409 body; done → the recipients. */
function outcome<T>(result: QueueActionOutcome<T>, mailId: string, rcpt: string | undefined, action: "retried" | "deleted"): { recipients: OutboundRecipient[] } | { error: { code: string; message: string } } {
  if (result.outcome === "done") return { recipients: result.recipients };
  if (result.outcome === "not_found") {
    throw new NotFound(rcpt === undefined ? `no outbound message ${mailId}` : `no remote recipient ${rcpt} of outbound message ${mailId}`);
  }
  const who = rcpt === undefined ? `no recipient of message ${mailId} is` : `recipient ${rcpt} of message ${mailId} is not`;
  const busy = action === "retried" ? " or being sent right now" : "";
  return { error: { code: "nothing_waiting", message: `${who} waiting in the queue to be ${action} (delivered, bounced or deleted${busy})` } };
}
