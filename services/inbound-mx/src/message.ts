import type { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { SMTPServerSession } from "smtp-server";
import { BlobTooLargeError, type BlobRef } from "@postline/blobstore";
import { Topics } from "@postline/bus";
import { mailAccepted, newMailId, publishEvent, type MailAcceptedInput } from "@postline/events";
import type { Logger } from "@postline/telemetry";
import type { MxConnection } from "./connection.ts";
import { receivedHeader } from "./received.ts";
import { SmtpReply } from "@postline/smtp";
import type { MxDeps } from "./server.ts";

/** Thrown when the blob store and the bus together took longer than the commit timeout. */
class CommitTimeout extends Error {}

/**
 * DATA: streams the message, behind our Received header, straight into the blob store (hashed and
 * size-limited on the way, never held in memory), publishes `mail.received`, and only then resolves
 * with the mail id for the 250. Throws SmtpReply: 552 5.3.4 over the size limit, 451 4.3.0 when the
 * blob store or the bus fails. A client that disconnects mid-DATA makes the put fail, so nothing is
 * stored and nothing is published.
 */
export async function receiveMessage(deps: MxDeps, c: MxConnection, session: SMTPServerSession, stream: Readable): Promise<string> {
  const started = process.hrtime.bigint();
  const mailId = newMailId();
  // A logger bound to the mail id only for the refusal paths; the accepted line names it itself.
  const log = (): Logger => c.log.child({ mailId });
  const envelope = session.envelope;
  const rcptTo = envelope.rcptTo.map((r) => r.address);
  const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : "";
  const cipher = session.secure ? (c.rawSocket as TLSSocket).getCipher?.() : undefined;
  const header = receivedHeader({
    helo: c.hostNameAppearsAs || "",
    clientHostname: c.confirmedHostname,
    clientIp: c.remoteAddress,
    byHostname: deps.settings.POSTLINE_HOSTNAME,
    mailId,
    tls: cipher ? { protocol: cipher.version, cipher: cipher.name } : undefined,
    smtpUtf8: Boolean(envelope.smtpUtf8),
    rcptTo,
    date: new Date(),
  });

  // The commit timeout starts when the client has sent the whole message.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    stream.once("end", () => {
      timer = setTimeout(() => reject(new CommitTimeout()), deps.settings.POSTLINE_MX_COMMIT_TIMEOUT_MS);
    });
  });
  deadline.catch(() => {});
  let timedOut = false;

  try {
    let blob: BlobRef;
    try {
      blob = await Promise.race([deps.blobs.put(withHeader(header, stream), { maxBytes: deps.settings.POSTLINE_MX_MAX_SIZE + header.length }), deadline]);
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        deps.metrics.messages.inc({ result: "rejected", reason: "too_large" });
        log().info({ maxBytes: deps.settings.POSTLINE_MX_MAX_SIZE }, "message refused: too large");
        throw new SmtpReply(552, "5.3.4", `Error: message exceeds fixed maximum message size ${deps.settings.POSTLINE_MX_MAX_SIZE}`, "too_large");
      }
      if (isClientGone(err) || (stream.destroyed && !stream.readableEnded)) {
        deps.metrics.messages.inc({ result: "rejected", reason: "client_aborted" });
        log().info({ err: (err as Error).message }, "client went away during DATA; nothing stored");
        throw new SmtpReply(451, "4.3.0", "Error: connection lost", "client_aborted");
      }
      timedOut = err instanceof CommitTimeout;
      deps.metrics.messages.inc({ result: "rejected", reason: timedOut ? "storage_timeout" : "storage_error" });
      log().error({ err }, "storing the message failed; answering 451");
      throw new SmtpReply(451, "4.3.0", "Error: temporary local problem (storage), try again later", "storage_error");
    }

    const event: MailAcceptedInput = {
      v: 1,
      id: mailId,
      blob: { key: blob.key, sha256: blob.sha256, size: blob.size },
      envelope: {
        mailFrom,
        rcptTo,
        smtpUtf8: Boolean(envelope.smtpUtf8),
        body: envelope.bodyType?.toLowerCase() === "8bitmime" ? "8BITMIME" : "7BIT",
        dsn: dsnOf(session),
      },
      client: {
        ip: c.remoteAddress,
        ...(c.confirmedHostname ? { hostname: c.confirmedHostname } : {}),
        helo: c.hostNameAppearsAs || "",
        tls: Boolean(session.secure),
      },
      receivedAt: new Date().toISOString(),
      sessionSymbols: [...c.symbols],
    };
    try {
      await Promise.race([publishEvent(deps.bus, Topics.mailReceived, mailAccepted, mailId, event), deadline]);
    } catch (err) {
      timedOut = err instanceof CommitTimeout;
      deps.metrics.messages.inc({ result: "rejected", reason: timedOut ? "bus_timeout" : "bus_error" });
      log().error({ err, blob: blob.key }, "publishing mail.received failed; answering 451");
      throw new SmtpReply(451, "4.3.0", "Error: temporary local problem (queue), try again later", "bus_error");
    }

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.messages.inc({ result: "accepted", reason: "" });
    deps.metrics.bytes.inc(blob.size);
    deps.metrics.messageSize.observe(blob.size);
    deps.metrics.commitSeconds.observe(seconds);
    c.log.info({ mailId, from: mailFrom, rcpts: rcptTo.length, size: blob.size, blob: blob.key, tls: Boolean(session.secure) }, "message accepted");
    return mailId;
  } finally {
    clearTimeout(timer);
  }
}

/** Our Received header, then the message as the client sent it (dots unstuffed), without destroying the stream on an early stop. */
async function* withHeader(header: Buffer, stream: Readable): AsyncGenerator<Buffer> {
  yield header;
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) yield chunk as Buffer;
}

function isClientGone(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ECONNECTION" || code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** DSN parameters (RFC 3461): RET and ENVID of MAIL FROM, NOTIFY and ORCPT per recipient. */
function dsnOf(session: SMTPServerSession): MailAcceptedInput["envelope"]["dsn"] {
  const dsn = session.envelope.dsn;
  const rcpt: Record<string, { notify?: ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[]; orcpt?: string }> = {};
  for (const r of session.envelope.rcptTo) {
    if (!r.dsn || (!r.dsn.notify && !r.dsn.orcpt)) continue;
    rcpt[r.address] = {
      ...(r.dsn.notify ? { notify: r.dsn.notify.map((n) => n.toUpperCase()) as ("NEVER" | "SUCCESS" | "FAILURE" | "DELAY")[] } : {}),
      ...(r.dsn.orcpt ? { orcpt: r.dsn.orcpt } : {}),
    };
  }
  return {
    ...(dsn?.ret ? { ret: dsn.ret.toUpperCase() as "FULL" | "HDRS" } : {}),
    ...(dsn?.envid ? { envid: dsn.envid } : {}),
    rcpt,
  };
}
