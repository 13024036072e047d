import type { Readable } from "node:stream";
import type { SMTPServerSession } from "smtp-server";
import { Topics } from "@postline/bus";
import { activeSigningKeys, signMessage } from "@postline/dkim";
import { mailAccepted, newMailId, publishEvent, type MailAcceptedInput } from "@postline/events";
import { SmtpReply } from "@postline/smtp";
import { fromAddresses, rewriteMessage, splitMessage } from "./rewrite.ts";
import { ownsAddress, type AuthUser } from "./senders.ts";
import type { SubmissionDeps } from "./server.ts";

/** Thrown while reading DATA when the message passes the size limit (the rest is drained). */
class TooLarge extends Error {}

/**
 * DATA of an authenticated session, in order: read the message (at most the size limit), check
 * that every From address belongs to the account (553 5.7.1), rewrite it (Bcc dropped, Message-ID
 * and Date added), DKIM-sign it with the From domain's active keys (none: unsigned), take a slot
 * of the hourly limit (451 4.7.1), store it in the blob store and publish `mail.submitted`. Only
 * after both succeeded does it resolve with the id for the 250; a failure of either is 451 4.3.0
 * (and gives the hourly slot back).
 */
export async function submitMessage(deps: SubmissionDeps, session: SMTPServerSession, stream: Readable, user: AuthUser, ip: string): Promise<string> {
  const started = process.hrtime.bigint();
  const { settings, metrics } = deps;
  const mailId = newMailId();
  const log = deps.logger.child({ session: session.id, user: user.address, mailId });
  const reject = (code: number, enhanced: string, text: string, reason: string): never => {
    metrics.messages.inc({ result: "rejected", reason });
    log.info({ reason }, "message refused");
    throw new SmtpReply(code, enhanced, text, reason);
  };

  let raw: Buffer;
  try {
    raw = await readAll(stream, settings.POSTLINE_SUBMISSION_MAX_SIZE);
  } catch (err) {
    if (err instanceof TooLarge) reject(552, "5.3.4", `Error: message exceeds fixed maximum message size ${settings.POSTLINE_SUBMISSION_MAX_SIZE}`, "too_large");
    throw err;
  }

  const from = fromAddresses(splitMessage(raw!).header);
  if (from === null || from.length === 0) reject(553, "5.7.1", "Error: the message has no From address", "no_from");
  for (const address of from!) {
    if (!(await ownsAddress(deps.db, user, address))) reject(553, "5.7.1", `Error: From address <${address}> does not belong to ${user.address}`, "from_not_owned");
  }

  const rewritten = rewriteMessage(raw!, { messageId: `${mailId}@${settings.POSTLINE_HOSTNAME}`, date: new Date() });
  const fromDomain = from![0]!.slice(from![0]!.lastIndexOf("@") + 1).toLowerCase();
  let message = rewritten.message;
  const keys = await activeSigningKeys(deps.db, fromDomain);
  if (keys.length > 0) {
    message = await signMessage(message, keys, { domain: fromDomain });
    metrics.dkim.inc({ result: "signed" });
  } else {
    metrics.dkim.inc({ result: "no_keys" });
    log.info({ domain: fromDomain }, "no active DKIM keys for the From domain; sending unsigned");
  }

  if (!(await deps.limit.reserve(user.id, mailId))) {
    reject(451, "4.7.1", `Error: ${user.address} has sent ${settings.POSTLINE_SUBMISSION_MAX_PER_HOUR} messages in the last hour, try again later`, "hourly_limit");
  }

  const envelope = session.envelope;
  try {
    let blob;
    try {
      blob = await deps.blobs.put(message);
    } catch (err) {
      log.error({ err }, "storing the message failed; answering 451");
      reject(451, "4.3.0", "Error: temporary local problem (storage), try again later", "storage_error");
    }
    const event: MailAcceptedInput = {
      v: 1,
      id: mailId,
      blob: { key: blob!.key, sha256: blob!.sha256, size: blob!.size },
      envelope: {
        mailFrom: envelope.mailFrom ? envelope.mailFrom.address : "",
        rcptTo: envelope.rcptTo.map((r) => r.address),
        smtpUtf8: Boolean(envelope.smtpUtf8),
        body: envelope.bodyType?.toLowerCase() === "8bitmime" ? "8BITMIME" : "7BIT",
      },
      client: { ip, helo: session.hostNameAppearsAs || "", tls: Boolean(session.secure), authUser: user.address },
      receivedAt: new Date().toISOString(),
      sessionSymbols: [],
    };
    try {
      await publishEvent(deps.bus, Topics.mailSubmitted, mailAccepted, mailId, event);
    } catch (err) {
      log.error({ err, blob: blob!.key }, "publishing mail.submitted failed; answering 451");
      reject(451, "4.3.0", "Error: temporary local problem (queue), try again later", "bus_error");
    }
    metrics.messages.inc({ result: "accepted", reason: "" });
    metrics.bytes.inc(blob!.size);
    metrics.commitSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    log.info(
      { rcpts: event.envelope.rcptTo.length, size: blob!.size, blob: blob!.key, dkim: keys.length > 0, addedMessageId: rewritten.addedMessageId, droppedBcc: rewritten.droppedBcc },
      "message submitted",
    );
    return mailId;
  } catch (err) {
    await deps.limit.release(mailId).catch((e: unknown) => log.warn({ err: e }, "giving the hourly slot back failed"));
    throw err;
  }
}

/** The whole message in memory (it is rewritten and signed), refusing more than `max` bytes; the rest is drained. */
async function readAll(stream: Readable, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of stream) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > max) over = true;
    if (!over) chunks.push(b);
  }
  if (over) throw new TooLarge();
  return Buffer.concat(chunks, size);
}
