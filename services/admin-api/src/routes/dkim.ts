import type { FastifyInstance } from "fastify";
import type { Db } from "@postline/db";
import { dkimKeyView, generateDkimKey, listDkimKeys, removeDkimKey, retireDkimKey, type DkimAlgorithm } from "@postline/dkim";
import { errorResponses } from "../schemas.ts";

// DKIM keys of a domain: generate (the private key stays in the database; the answer carries the
// TXT record to publish), list, retire (stop signing, keep the selector valid) and remove.
// Private keys are never returned.

const domainName = { type: "string", minLength: 1, maxLength: 253 } as const;
const selector = { type: "string", minLength: 1, maxLength: 200, description: "DKIM selector (DNS labels)" } as const;
const algorithm = { type: "string", enum: ["rsa-sha256", "ed25519-sha256"] } as const;

export const dkimKeySchema = {
  type: "object",
  required: ["domain", "selector", "algorithm", "publicKey", "active", "createdAt", "dnsRecord"],
  properties: {
    domain: { type: "string" },
    selector: { type: "string" },
    algorithm,
    publicKey: { type: "string", description: "base64 p= value: SPKI DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463)" },
    active: { type: "boolean", description: "signs outgoing mail; a retired key (false) stays valid until removed" },
    createdAt: { type: "string", format: "date-time" },
    dnsRecord: {
      type: "object",
      required: ["name", "type", "value"],
      properties: {
        name: { type: "string", description: "<selector>._domainkey.<domain>" },
        type: { type: "string", enum: ["TXT"] },
        value: { type: "string", description: "v=DKIM1; k=…; p=… (split into ≤255-byte strings in a zone file)" },
      },
    },
  },
} as const;

const keysSchema = { type: "object", required: ["keys"], properties: { keys: { type: "array", items: dkimKeySchema } } } as const;
const domainParams = { type: "object", required: ["domain"], properties: { domain: domainName }, additionalProperties: false } as const;
const keyParams = {
  type: "object",
  required: ["domain", "selector"],
  properties: { domain: domainName, selector },
  additionalProperties: false,
} as const;

export function dkimRoutes(app: FastifyInstance, db: Db): void {
  const tags = ["dkim"];

  app.post<{ Params: { domain: string }; Body: { algorithm?: DkimAlgorithm | "both"; selector?: string } | undefined }>(
    "/domains/:domain/dkim",
    {
      schema: {
        tags,
        summary: "Generate a DKIM key (or an RSA-2048 and an Ed25519 key) and get the TXT record(s) to publish",
        description:
          "Existing keys are untouched: they keep signing until retired and stay valid until removed. " +
          "Default algorithm rsa-sha256; with `both` the selectors are `<selector>-rsa` and `<selector>-ed`; " +
          "default selector `pl<yyyymmdd>` plus `-rsa`/`-ed` (a letter after the date if taken).",
        params: domainParams,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { algorithm: { type: "string", enum: ["rsa-sha256", "ed25519-sha256", "both"] }, selector },
        },
        response: { 201: keysSchema, ...errorResponses },
      },
      // A POST without a body means all defaults.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
    },
    async (req, reply) => {
      const body = req.body ?? {};
      const keys = await generateDkimKey(db, req.params.domain, {
        ...(body.algorithm !== undefined ? { algorithm: body.algorithm } : {}),
        ...(body.selector !== undefined ? { selector: body.selector } : {}),
      });
      return reply.code(201).send({ keys: keys.map(dkimKeyView) });
    },
  );

  app.get<{ Params: { domain: string } }>(
    "/domains/:domain/dkim",
    {
      schema: {
        tags,
        summary: "List a domain's DKIM keys, active and retired (never the private keys)",
        params: domainParams,
        response: { 200: keysSchema, ...errorResponses },
      },
    },
    async (req) => ({ keys: (await listDkimKeys(db, req.params.domain)).map(dkimKeyView) }),
  );

  app.post<{ Params: { domain: string; selector: string } }>(
    "/domains/:domain/dkim/:selector/retire",
    {
      schema: {
        tags,
        summary: "Stop signing with a key; it stays listed (keep its DNS record) until removed",
        params: keyParams,
        response: { 200: dkimKeySchema, ...errorResponses },
      },
    },
    async (req) => dkimKeyView(await retireDkimKey(db, req.params.domain, req.params.selector)),
  );

  app.delete<{ Params: { domain: string; selector: string } }>(
    "/domains/:domain/dkim/:selector",
    {
      schema: {
        tags,
        summary: "Delete a key (its DNS record can then be withdrawn)",
        params: keyParams,
        response: { 204: { type: "null", description: "removed" }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await removeDkimKey(db, req.params.domain, req.params.selector);
      return reply.code(204).send();
    },
  );
}
