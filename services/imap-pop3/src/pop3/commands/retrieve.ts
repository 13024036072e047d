import { BlobNotFoundError } from "@postline/blobstore";
import { openContent } from "@postline/mailstore";
import { DotStuffer } from "../dot-stuffer.ts";
import type { MaildropMessage } from "../maildrop.ts";
import { SessionClosed, type Pop3Session } from "../session.ts";
import { messageArg } from "./transaction.ts";

/** RETR msg: the whole message, streamed from the blob store. */
export async function retr(s: Pop3Session, args: string): Promise<void> {
  const w = args.trim().split(/ +/);
  if (w.length !== 1) return s.bad("RETR needs one message number");
  const found = await messageArg(s, w[0]);
  if (found) await send(s, found.message, `${found.message.size} octets`);
}

/** TOP msg n: the header, the blank line and the first n lines of the body. */
export async function top(s: Pop3Session, args: string): Promise<void> {
  const w = args.trim().split(/ +/);
  if (w.length !== 2 || !/^[0-9]{1,9}$/.test(w[1]!)) return s.bad("TOP needs a message number and a number of lines");
  const found = await messageArg(s, w[0]);
  if (found) await send(s, found.message, "Top of message follows", Number(w[1]));
}

/**
 * Streams the message through the dot-stuffer chunk by chunk, waiting for the socket to drain, so a
 * large message is never held in memory. A store failure after "+OK" cannot be reported in the
 * protocol any more: the connection is closed so the client does not take a truncated message.
 */
async function send(s: Pop3Session, m: MaildropMessage, first: string, bodyLines?: number): Promise<void> {
  let body;
  try {
    body = await openContent(s.deps.blobs, m.content);
  } catch (err) {
    if (err instanceof BlobNotFoundError) return s.err("Message was removed by another session");
    throw err;
  }
  const stuffer = new DotStuffer(bodyLines);
  try {
    await s.ok(first);
    for await (const chunk of body) {
      const out = stuffer.push(chunk as Buffer);
      if (out.length > 0) await s.write(out);
      if (stuffer.done) break;
    }
  } catch (err) {
    body.destroy();
    if (err instanceof SessionClosed) throw err;
    s.logger.error({ err, blob: m.content.blobKey }, "pop3 reading a message failed; closing the connection");
    s.shutdown();
    throw new SessionClosed();
  }
  body.destroy();
  await s.write(stuffer.end());
}
