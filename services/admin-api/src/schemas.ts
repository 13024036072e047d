import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from "@postline/directory";

// JSON schemas for the HTTP boundary. Fastify validates requests and serialises responses with
// them, and @fastify/swagger turns them into the OpenAPI document. The directory re-validates
// addresses and domain names itself (IDN conversion, dot-atom rules).

const dateTime = { type: "string", format: "date-time" } as const;
const address = { type: "string", minLength: 3, maxLength: 320, description: "local@domain; Unicode domains are accepted and stored as A-labels" } as const;
const domainName = { type: "string", minLength: 1, maxLength: 253 } as const;
const quotaBytes = { type: ["integer", "null"], minimum: 0, description: "bytes; null means unlimited" } as const;
const password = { type: "string", minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_LENGTH } as const;

export const errorSchema = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: { code: { type: "string" }, message: { type: "string" } },
    },
  },
} as const;

export const domainSchema = {
  type: "object",
  required: ["name", "unicodeName", "catchAll", "createdAt"],
  properties: {
    name: { type: "string", description: "lower-case A-label form" },
    unicodeName: { type: "string" },
    catchAll: { type: ["string", "null"] },
    createdAt: dateTime,
  },
} as const;

export const accountSchema = {
  type: "object",
  required: ["address", "domain", "quotaBytes", "usedBytes", "disabled", "createdAt", "updatedAt"],
  properties: {
    address: { type: "string" },
    domain: { type: "string" },
    quotaBytes,
    usedBytes: { type: "integer" },
    disabled: { type: "boolean" },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const aliasSchema = {
  type: "object",
  required: ["source", "destination", "domain", "createdAt"],
  properties: { source: { type: "string" }, destination: { type: "string" }, domain: { type: "string" }, createdAt: dateTime },
} as const;

const nullableDateTime = { type: ["string", "null"], format: "date-time" } as const;

/** One remote recipient of the outbound queue (`deliveries` rows with a destination domain). */
export const queueRecipientSchema = {
  type: "object",
  required: ["mailId", "recipient", "sender", "domain", "status", "attempts", "lastError", "nextAttemptAt", "remoteHost", "remoteReply", "lastAttemptAt", "createdAt", "updatedAt", "inFlight", "resends"],
  properties: {
    mailId: { type: "string" },
    recipient: { type: "string" },
    sender: { type: "string", description: "envelope sender; empty for the null sender" },
    domain: { type: "string", description: "destination domain (A-labels)" },
    status: { type: "string", enum: ["queued", "deferred", "delivered", "bounced", "deleted"] },
    attempts: { type: "integer" },
    lastError: { type: ["string", "null"] },
    nextAttemptAt: nullableDateTime,
    remoteHost: { type: ["string", "null"], description: "the host (name [address]) of the last attempt" },
    remoteReply: { type: ["string", "null"], description: "the remote server's reply to a delivered message" },
    lastAttemptAt: nullableDateTime,
    createdAt: dateTime,
    updatedAt: dateTime,
    inFlight: { type: "boolean", description: "an SMTP transaction for it is under way" },
    resends: { type: "integer", description: "times it may have been sent twice (a delivery process died mid-transaction)" },
  },
} as const;

export const queueMessageSchema = {
  type: "object",
  required: ["mailId", "source", "sender", "size", "receivedAt", "expiresAt", "queuedAt", "envelope", "recipients"],
  properties: {
    mailId: { type: "string" },
    source: { type: "string", enum: ["inbound", "submission", "dsn"] },
    sender: { type: "string" },
    size: { type: "integer" },
    receivedAt: dateTime,
    expiresAt: { ...dateTime, description: "after this a recipient that still fails temporarily is bounced" },
    queuedAt: dateTime,
    envelope: { type: "object", additionalProperties: true, description: "smtpUtf8, body, dsn {ret, envid, rcpt: {address: {notify, orcpt}}}" },
    recipients: { type: "array", items: queueRecipientSchema },
  },
} as const;

const statusCounts = ["queued", "deferred", "delivered", "bounced", "deleted"] as const;

export const queueSummarySchema = {
  type: "object",
  required: ["counts", "inFlight", "domains"],
  properties: {
    counts: { type: "object", required: [...statusCounts], properties: Object.fromEntries(statusCounts.map((s) => [s, { type: "integer" }])) },
    inFlight: { type: "integer", description: "waiting recipients with an SMTP transaction under way" },
    domains: {
      type: "array",
      description: "destination domains with the most waiting (queued or deferred) recipients",
      items: {
        type: "object",
        required: ["domain", "waiting", "queued", "deferred", "inFlight", "oldestQueuedAt", "lastError"],
        properties: {
          domain: { type: "string" },
          waiting: { type: "integer" },
          queued: { type: "integer" },
          deferred: { type: "integer" },
          inFlight: { type: "integer" },
          oldestQueuedAt: dateTime,
          lastError: { type: ["string", "null"], description: "the latest error among its waiting recipients" },
        },
      },
    },
  },
} as const;

/** Error responses every /v1 route can give. */
export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  404: errorSchema,
  409: errorSchema,
} as const;

export const schemas = {
  domainParams: { type: "object", required: ["name"], properties: { name: domainName }, additionalProperties: false },
  createDomainBody: {
    type: "object",
    required: ["name"],
    additionalProperties: false,
    properties: { name: domainName, catchAll: { type: ["string", "null"], maxLength: 320 } },
  },
  updateDomainBody: {
    type: "object",
    required: ["catchAll"],
    additionalProperties: false,
    properties: { catchAll: { type: ["string", "null"], maxLength: 320 } },
  },
  deleteDomainQuery: {
    type: "object",
    additionalProperties: false,
    properties: { force: { type: "boolean", default: false, description: "also delete the domain's accounts (with their mail) and aliases" } },
  },
  accountParams: { type: "object", required: ["address"], properties: { address }, additionalProperties: false },
  listAccountsQuery: {
    type: "object",
    additionalProperties: false,
    properties: {
      domain: domainName,
      after: { type: "string", maxLength: 320, description: "return accounts after this address (the previous page's `next`)" },
      limit: { type: "integer", minimum: 1, maximum: 10000, default: 1000 },
    },
  },
  createAccountBody: {
    type: "object",
    required: ["address", "password"],
    additionalProperties: false,
    properties: { address, password, quotaBytes },
  },
  updateAccountBody: {
    type: "object",
    minProperties: 1,
    additionalProperties: false,
    properties: { password, quotaBytes, disabled: { type: "boolean" } },
  },
  listAliasesQuery: {
    type: "object",
    additionalProperties: false,
    properties: { domain: domainName, source: address },
  },
  aliasBody: {
    type: "object",
    required: ["source", "destination"],
    additionalProperties: false,
    properties: { source: address, destination: address },
  },
  aliasQuery: {
    type: "object",
    required: ["source", "destination"],
    additionalProperties: false,
    properties: { source: address, destination: address },
  },
  resolveParams: { type: "object", required: ["address"], properties: { address: { type: "string", minLength: 1, maxLength: 320 } }, additionalProperties: false },
  resolution: {
    type: "object",
    required: ["kind"],
    properties: {
      kind: { type: "string", enum: ["deliver", "not-local-domain", "unknown-user", "disabled", "invalid-address"] },
      accounts: { type: "array", items: { type: "object", required: ["id", "address"], properties: { id: { type: "integer" }, address: { type: "string" } } } },
      remote: { type: "array", items: { type: "string" } },
      domain: { type: "string" },
      address: { type: "string" },
      reason: { type: "string" },
    },
  },
} as const;
