import { messageTime } from "./dates.ts";
import type { Rule } from "./rule.ts";

/**
 * Outlook and Outlook Express write Message-IDs as `<CCCCTTTTTTTT$xxxxxxxx$xxxxxxxx@host>`, where
 * TTTTTTTT is the high half of the sending time as a Windows FILETIME (units of 2³² × 100 ns, about
 * seven minutes). Bulk-mailing software copies the shape with random hex, so the time it encodes is
 * years away from the message's Date. Ham written by Outlook is within minutes of it.
 */
const OUTLOOK_ID = /^<([0-9a-f]{4})([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@/i;
const FILETIME_EPOCH_MS = Date.UTC(1601, 0, 1);
const HIGH_UNIT_MS = 2 ** 32 / 10_000;
const TOLERANCE_MS = 30 * 86_400_000;

/** The time an Outlook-form Message-ID encodes (ms since 1970), or null when the ID has another form. */
export function outlookIdTime(messageId: string): number | null {
  const m = OUTLOOK_ID.exec(messageId.trim());
  return m ? FILETIME_EPOCH_MS + parseInt(m[2]!, 16) * HIGH_UNIT_MS : null;
}

export const outlookMessageIdRule: Rule = {
  name: "outlook-message-id",
  check({ content }) {
    const id = content.parsed.messageId;
    const encoded = id ? outlookIdTime(id.startsWith("<") ? id : `<${id}>`) : null;
    if (encoded === null) return [];
    const date = messageTime(content);
    if (date !== undefined && Math.abs(encoded - date) <= TOLERANCE_MS) return [];
    return [{ name: "FORGED_OUTLOOK_MSGID", detail: `id time ${new Date(encoded).toISOString().slice(0, 10)}` }];
  },
};
