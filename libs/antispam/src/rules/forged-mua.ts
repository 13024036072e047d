import type { Rule } from "./rule.ts";

/**
 * Microsoft's mail programs each write their own Message-ID form and fields. Outlook Express 4–6 writes a Message-ID of its own form and an `X-MimeOLE` field (its MIME
 * library's name) in every message; Outlook, whose Message-IDs have the same `$`-separated form,
 * writes `X-MimeOLE` too unless the message went through an Exchange server; Exchange 5.5's Internet
 * Mail Service writes 36–40 upper-case hex digits before the `@`. Bulk-mailing software that copies
 * the `X-Mailer` line or the Message-ID's shape misses the rest. SpamAssassin's FORGED_MUA_OUTLOOK,
 * FORGED_MUA_IMS and RATWARE_MS_HASH look at the same fields.
 */
const OE_MAILER = /\bOutlook Express [456]\./;
const OE_MESSAGE_ID = /^<(?:[0-9a-f]{8}|[0-9a-f]{12})\$[0-9a-f]{8}\$[0-9a-f]{8}@\S+>$|^<[A-Za-z0-9-]{7}[A-Za-z0-9]{20}@hotmail\.com>$/;
const IMS_MAILER = /Internet Mail Service/;
const IMS_MESSAGE_ID = /^<[A-F\d]{36,40}@\S+>$/;
const OUTLOOK_MESSAGE_ID = /^<[0-9a-f]{12}\$[0-9a-f]{8}\$[0-9a-f]{8}@/i;
const MIMEOLE = /^Produced By Microsoft MimeOLE/i;
const EXCHANGE_RELAY = /Microsoft (?:Exchange|SMTPSVC|SMTP Server)|\bExchange\b/i;

export const forgedMuaRule: Rule = {
  name: "forged-mua",
  check({ content }) {
    const headers = content.parsed.headers;
    const text = (name: string) => {
      const value = headers.get(name);
      return typeof value === "string" ? value.trim() : "";
    };
    const mailer = text("x-mailer");
    const mimeOle = text("x-mimeole");
    const rawId = content.parsed.messageId ?? "";
    const messageId = rawId.startsWith("<") ? rawId : `<${rawId}>`;
    if (OE_MAILER.test(mailer)) {
      if (!mimeOle) return [{ name: "FORGED_MUA_OUTLOOK", detail: "Outlook Express without X-MimeOLE" }];
      if (rawId && !OE_MESSAGE_ID.test(messageId)) return [{ name: "FORGED_MUA_OUTLOOK", detail: "Outlook Express with another Message-ID form" }];
      return [];
    }
    if (IMS_MAILER.test(mailer)) {
      return IMS_MESSAGE_ID.test(messageId) ? [] : [{ name: "FORGED_MUA_IMS", detail: "Exchange IMS with another Message-ID form" }];
    }
    if (OUTLOOK_MESSAGE_ID.test(messageId) && !MIMEOLE.test(mimeOle) && !viaExchange(headers.get("received"))) {
      return [{ name: "FORGED_MUA_OUTLOOK", detail: "Outlook Message-ID without X-MimeOLE" }];
    }
    return [];
  },
};

function viaExchange(received: unknown): boolean {
  const values = Array.isArray(received) ? received : received === undefined ? [] : [received];
  return values.some((value) => EXCHANGE_RELAY.test(String(value)));
}
