import type { BlobStore } from "@postline/blobstore";
import { Topics, type Bus } from "@postline/bus";
import { buildDsn, type DsnRecipient } from "@postline/dsn";
import { mailClassified, newMailId, publishEvent } from "@postline/events";
import { HEADER_LIMIT } from "@postline/mime";
import type { OutboundMessage } from "./queue.ts";
import { rcptParams } from "./outcomes.ts";

/** Originals up to this size are returned whole in a DSN (RET=FULL); larger ones as headers only. */
const RETURN_LIMIT = 1024 * 1024;

export interface NoticeDeps {
  bus: Bus;
  blobs: BlobStore;
  hostname: string;
}

/**
 * Sends a delivery status notification (RFC 3464) about some of a message's recipients to its
 * sender: stored as a new message and published as `mail.classified` (source `dsn`, from the null
 * sender), so delivery takes it like any other mail — into the sender's INBOX when the sender is
 * local. Returns the notification's mail id. The caller decides whether a notice is due (never for
 * the null sender, never about a notice).
 */
export async function sendNotice(deps: NoticeDeps, message: OutboundMessage, recipients: DsnRecipient[]): Promise<string> {
  const id = newMailId();
  const ret = message.envelope.dsn.ret ?? "FULL";
  const original = await readOriginal(deps.blobs, message, ret);
  const dsn = buildDsn({
    reportingMta: deps.hostname,
    from: `MAILER-DAEMON@${deps.hostname}`,
    to: message.sender,
    messageId: `${id}@${deps.hostname}`,
    date: new Date(),
    originalMailId: message.mailId,
    ...(message.envelope.dsn.envid ? { envid: message.envelope.dsn.envid } : {}),
    arrivalDate: message.receivedAt,
    ret: original.whole ? ret : "HDRS",
    original: original.bytes,
    maxReturnedBytes: RETURN_LIMIT,
    recipients: recipients.map((r) => {
      const orcpt = rcptParams(message.envelope.dsn.rcpt, r.finalRecipient)?.orcpt;
      return orcpt ? { ...r, originalRecipient: orcpt } : r;
    }),
  });
  const blob = await deps.blobs.put(dsn);
  await publishEvent(deps.bus, Topics.mailClassified, mailClassified, id, {
    v: 1,
    id,
    blob,
    envelope: {
      mailFrom: "",
      rcptTo: [message.sender],
      smtpUtf8: [...message.sender].some((c) => c.charCodeAt(0) > 0x7f),
      body: dsn.some((b) => b > 0x7f) ? "8BITMIME" : "7BIT",
      dsn: { rcpt: {} },
    },
    client: { ip: "", helo: deps.hostname, tls: false },
    receivedAt: new Date().toISOString(),
    source: "dsn",
    verdict: { action: "deliver", score: 0, symbols: [], authResults: `${deps.hostname}; none` },
  });
  return id;
}

/** The original for the notice: whole when asked for and small enough, else its header section. */
async function readOriginal(blobs: BlobStore, message: OutboundMessage, ret: "FULL" | "HDRS"): Promise<{ bytes: Buffer; whole: boolean }> {
  const whole = ret === "FULL" && message.size <= RETURN_LIMIT;
  const end = whole ? message.size - 1 : Math.min(message.size, HEADER_LIMIT) - 1;
  const chunks: Buffer[] = [];
  for await (const chunk of await blobs.getRange(message.blobKey, 0, Math.max(end, 0))) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  if (whole) return { bytes, whole };
  const blank = bytes.indexOf("\r\n\r\n");
  const blankLf = bytes.indexOf("\n\n");
  const cut = blank >= 0 ? blank + 4 : blankLf >= 0 ? blankLf + 2 : bytes.length;
  return { bytes: bytes.subarray(0, cut), whole };
}
