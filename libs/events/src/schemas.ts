import { z } from "zod";

// The event contracts of DESIGN.md: versioned JSON, validated at both ends. Events carry references,
// never bodies: the raw message is in the blob store under `blob.key`.

export const mailId = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, "must be a ULID");
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in hex");
const isoDate = z.string().datetime({ offset: true });

export const blobRef = z.object({ key: sha256, sha256, size: z.number().int().nonnegative() });

/** DSN parameters of one recipient (RFC 3461). */
export const rcptParams = z.object({
  notify: z.array(z.enum(["NEVER", "SUCCESS", "FAILURE", "DELAY"])).optional(),
  orcpt: z.string().optional(),
});

export const envelope = z.object({
  /** The reverse path; "" for the null sender (bounces). */
  mailFrom: z.string(),
  rcptTo: z.array(z.string().min(3)).min(1),
  smtpUtf8: z.boolean().default(false),
  body: z.enum(["7BIT", "8BITMIME", "BINARYMIME"]).default("7BIT"),
  /** DSN: RET and ENVID of MAIL FROM, NOTIFY and ORCPT of each RCPT TO (keyed by recipient). */
  dsn: z
    .object({
      ret: z.enum(["FULL", "HDRS"]).optional(),
      envid: z.string().optional(),
      rcpt: z.record(z.string(), rcptParams).default({}),
    })
    .default({ rcpt: {} }),
});

export const client = z.object({
  ip: z.string(),
  /** Reverse DNS name of the client, when it resolved and matched forward. */
  hostname: z.string().optional(),
  helo: z.string(),
  tls: z.boolean(),
  authUser: z.string().optional(),
});

/** `mail.received` (inbound MX) and `mail.submitted` (submission) share one shape. */
export const mailAccepted = z.object({
  v: z.literal(1),
  id: mailId,
  blob: blobRef,
  envelope,
  client,
  receivedAt: isoDate,
  /** Symbols already decided during the SMTP session (e.g. early talker), scored by the spam filter. */
  sessionSymbols: z.array(z.string()).default([]),
});

export const symbolHit = z.object({ name: z.string(), score: z.number(), detail: z.string().optional() });

export const verdict = z.object({
  action: z.enum(["deliver", "junk", "reject", "quarantine"]),
  score: z.number(),
  symbols: z.array(symbolHit),
  /** The Authentication-Results header field value (without the field name). */
  authResults: z.string(),
});

export const mailClassified = mailAccepted.extend({
  source: z.enum(["inbound", "submission"]),
  verdict,
});

export const mailboxChanged = z.object({
  v: z.literal(1),
  accountId: z.number().int().positive(),
  mailboxId: z.number().int().positive(),
  uid: z.number().int().positive(),
  modseq: z.number().int().positive(),
  kind: z.enum(["append", "expunge", "flags"]),
  /** For moves into or out of Junk (spam learning): the mail id of the message, when known. */
  mailId: mailId.optional(),
});

export type BlobRefEvent = z.infer<typeof blobRef>;
export type Envelope = z.infer<typeof envelope>;
export type ClientInfo = z.infer<typeof client>;
export type MailAccepted = z.infer<typeof mailAccepted>;
export type MailAcceptedInput = z.input<typeof mailAccepted>;
export type Verdict = z.infer<typeof verdict>;
export type SymbolHit = z.infer<typeof symbolHit>;
export type MailClassified = z.infer<typeof mailClassified>;
export type MailClassifiedInput = z.input<typeof mailClassified>;
export type MailboxChanged = z.infer<typeof mailboxChanged>;
