import { receivedValues } from "./received.ts";
import type { Rule } from "./rule.ts";

/**
 * A mail program writes its own Message-ID form, and some write fields of their own. Bulk-mailing
 * software that copies a program's `X-Mailer` line, or the shape of its Message-ID, misses the rest.
 *
 * Outlook Express 4–6 writes a Message-ID of its own form and an `X-MimeOLE` field (its MIME
 * library's name) in every message; Outlook, whose Message-IDs have the same `$`-separated form,
 * writes `X-MimeOLE` too unless the message went through an Exchange server (`FORGED_MUA_OUTLOOK`).
 * Exchange 5.5's Internet Mail Service, The Bat! and Windows Eudora each write one Message-ID form
 * (`FORGED_MUA_MSGID` when a message naming one of them has another). SpamAssassin's
 * FORGED_MUA_OUTLOOK, FORGED_MUA_IMS, FORGED_MUA_THEBAT_*, FORGED_MUA_EUDORA and RATWARE_MS_HASH
 * look at the same fields.
 */
const OE_MAILER = /\bOutlook Express [456]\./;
const OE_MESSAGE_ID = /^<(?:[0-9a-f]{8}|[0-9a-f]{12})\$[0-9a-f]{8}\$[0-9a-f]{8}@\S+>$|^<[A-Za-z0-9-]{7}[A-Za-z0-9]{20}@hotmail\.com>$/;
const OUTLOOK_MESSAGE_ID = /^<[0-9a-f]{12}\$[0-9a-f]{8}\$[0-9a-f]{8}@/i;
const MIMEOLE = /^Produced By Microsoft MimeOLE/i;
const EXCHANGE_RELAY = /Microsoft (?:Exchange|SMTPSVC|SMTP Server)|\bExchange\b/i;
const OWN_MESSAGE_ID: { program: string; mailer: RegExp; id: RegExp }[] = [
  { program: "Exchange IMS", mailer: /Internet Mail Service/, id: /^<[A-F\d]{36,40}@\S+>$/ },
  { program: "The Bat!", mailer: /^The Bat!/, id: /^<\d+\.\d{14}@\S+>$/ },
  { program: "Eudora", mailer: /Windows Eudora/, id: /^<(?:\d+\.){4,5}\d{14}\.[0-9a-f]{8}@\S+>$/ },
];

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
    const program = OWN_MESSAGE_ID.find((p) => p.mailer.test(mailer));
    if (program) return program.id.test(messageId) ? [] : [{ name: "FORGED_MUA_MSGID", detail: `${program.program} with another Message-ID form` }];
    if (OUTLOOK_MESSAGE_ID.test(messageId) && !MIMEOLE.test(mimeOle) && !receivedValues(content).some((value) => EXCHANGE_RELAY.test(value))) {
      return [{ name: "FORGED_MUA_OUTLOOK", detail: "Outlook Message-ID without X-MimeOLE" }];
    }
    return [];
  },
};
