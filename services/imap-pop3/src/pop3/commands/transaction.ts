import type { MaildropMessage } from "../maildrop.ts";
import type { Pop3Session } from "../session.ts";

const NUMBER = /^[1-9][0-9]{0,9}$/;

/** The message a "msg" argument names, or undefined after answering -ERR. */
export async function messageArg(s: Pop3Session, arg: string | undefined): Promise<{ n: number; message: MaildropMessage } | undefined> {
  if (arg === undefined || !NUMBER.test(arg)) {
    await s.bad("Message number required");
    return undefined;
  }
  const n = Number(arg);
  const message = s.maildrop!.get(n);
  if (!message) {
    await s.err(s.maildrop!.messages[n - 1] ? `Message ${n} already deleted` : "No such message");
    return undefined;
  }
  return { n, message };
}

function words(args: string): string[] {
  const t = args.trim();
  return t === "" ? [] : t.split(/ +/);
}

export async function stat(s: Pop3Session, args: string): Promise<void> {
  if (words(args).length > 0) return s.bad("STAT takes no arguments");
  const { count, octets } = s.maildrop!.stat();
  await s.ok(`${count} ${octets}`);
}

export async function list(s: Pop3Session, args: string): Promise<void> {
  await listing(s, args, (n, m) => `${n} ${m.size}`);
}

/** RFC 1939 UIDL: `<uidvalidity>.<uid>` of the INBOX message. */
export async function uidl(s: Pop3Session, args: string): Promise<void> {
  await listing(s, args, (n, m) => `${n} ${s.maildrop!.uniqueId(m)}`);
}

async function listing(s: Pop3Session, args: string, line: (n: number, m: MaildropMessage) => string): Promise<void> {
  const w = words(args);
  if (w.length > 1) return s.bad("Too many arguments");
  if (w.length === 1) {
    const found = await messageArg(s, w[0]);
    if (found) await s.ok(line(found.n, found.message));
    return;
  }
  const maildrop = s.maildrop!;
  const lines: string[] = [];
  maildrop.messages.forEach((m, i) => {
    if (!m.deleted) lines.push(line(i + 1, m));
  });
  const { count, octets } = maildrop.stat();
  await s.multiline(`${count} messages (${octets} octets)`, lines);
}

/** Marks only; QUIT applies. */
export async function dele(s: Pop3Session, args: string): Promise<void> {
  const w = words(args);
  if (w.length !== 1) return s.bad("DELE needs one message number");
  const found = await messageArg(s, w[0]);
  if (!found) return;
  found.message.deleted = true;
  await s.ok(`Message ${found.n} deleted`);
}

export async function rset(s: Pop3Session, args: string): Promise<void> {
  if (words(args).length > 0) return s.bad("RSET takes no arguments");
  s.maildrop!.reset();
  const { count, octets } = s.maildrop!.stat();
  await s.ok(`Maildrop has ${count} messages (${octets} octets)`);
}

export async function noop(s: Pop3Session, args: string): Promise<void> {
  if (words(args).length > 0) return s.bad("NOOP takes no arguments");
  await s.ok();
}

/**
 * QUIT. In TRANSACTION: the UPDATE state removes the messages marked deleted in one transaction
 * and announces the expunges; +OK only once that is committed (RFC 1939 6).
 */
export async function quit(s: Pop3Session): Promise<void> {
  if (s.state !== "transaction") {
    await s.ok("Postline POP3 server signing off").catch(() => undefined);
    s.close();
    return;
  }
  s.state = "update";
  try {
    const { removed, announced } = await s.maildrop!.commit(s.deps.db, s.deps.notifier);
    if (!announced) s.logger.warn({ account: s.account?.address }, "pop3 expunge committed but not announced");
    if (removed > 0) s.logger.info({ account: s.account?.address, removed }, "pop3 deleted messages");
    await s.ok(`Postline POP3 server signing off (${removed} messages deleted)`).catch(() => undefined);
  } catch (err) {
    s.logger.error({ err, account: s.account?.address }, "pop3 could not remove deleted messages");
    await s.err("[SYS/TEMP] Some deleted messages not removed").catch(() => undefined);
  }
  s.close();
}
