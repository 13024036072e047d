import { astring } from "../../protocol/encode.ts";
import { decodeMailboxName, encodeMailboxName } from "../../protocol/mailbox-name.ts";
import type { SessionContext } from "./op.ts";

/** The hierarchy delimiter of every mailbox name. */
export const DELIMITER = "/";

/** Longest mailbox name (in characters of its UTF-8 form) CREATE and RENAME accept. */
export const MAX_NAME_LENGTH = 512;

/** IMAP4rev2 (and UTF8=ACCEPT) sessions name mailboxes in UTF-8; IMAP4rev1 ones in modified UTF-7. */
export function utf8Names(ctx: Pick<SessionContext, "enabled">): boolean {
  return ctx.enabled.has("IMAP4REV2") || ctx.enabled.has("UTF8=ACCEPT");
}

export class InvalidMailboxName extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidMailboxName";
  }
}

/**
 * A mailbox name as the client sent it → the stored name: modified UTF-7 decoded (rev1), `INBOX`
 * in any case (and as the first level of a hierarchy) upper-cased (RFC 9051 5.1), a trailing
 * delimiter dropped. Throws InvalidMailboxName for a name that is not valid mUTF-7.
 */
export function mailboxFromWire(ctx: Pick<SessionContext, "enabled">, wire: string): string {
  let name: string;
  try {
    name = decodeMailboxName(wire, utf8Names(ctx));
  } catch {
    throw new InvalidMailboxName("mailbox name is not valid modified UTF-7");
  }
  return normalizeName(name);
}

/** `inbox` → `INBOX`, `Inbox/x` → `INBOX/x`; a trailing `/` removed. */
export function normalizeName(name: string): string {
  let n = name;
  if (n.length > 1 && n.endsWith(DELIMITER)) n = n.slice(0, -1);
  const head = n.slice(0, 5);
  if (head.toUpperCase() === "INBOX" && (n.length === 5 || n[5] === DELIMITER)) n = "INBOX" + n.slice(5);
  return n;
}

/** The mailbox name for a response: mUTF-7 for rev1 sessions, as an astring. */
export function mailboxToWire(ctx: Pick<SessionContext, "enabled">, name: string): string {
  const encoded = encodeMailboxName(name, utf8Names(ctx));
  // "INBOX" may go as an atom; everything else quoted or as a literal, as astring decides.
  return astring(encoded);
}

/** Refuses names CREATE and RENAME must not make: empty levels, wildcards, control characters, too long. */
export function validateNewName(name: string): string | null {
  if (name === "") return "mailbox name is empty";
  if (name.length > MAX_NAME_LENGTH) return "mailbox name is too long";
  if (name.startsWith(DELIMITER)) return "mailbox name starts with the hierarchy delimiter";
  if (name.split(DELIMITER).some((level) => level === "")) return "mailbox name has an empty level";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return "mailbox name contains control characters";
  if (/[%*]/.test(name)) return "mailbox name contains a wildcard";
  return null;
}

/** `a/b/c` → `["a", "a/b"]`. */
export function parentsOf(name: string): string[] {
  const levels = name.split(DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(DELIMITER));
  return out;
}

/**
 * A LIST pattern as a regular expression (RFC 9051 6.3.9): `*` matches anything, `%` anything but
 * the delimiter. An INBOX at the start of the pattern matches INBOX in any case.
 */
export function patternRegex(pattern: string): RegExp {
  const p = normalizePatternInbox(pattern);
  let source = "";
  for (const ch of p) {
    if (ch === "*") source += ".*";
    else if (ch === "%") source += "[^/]*";
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "su");
}

function normalizePatternInbox(pattern: string): string {
  const head = pattern.slice(0, 5);
  if (head.toUpperCase() === "INBOX" && (pattern.length === 5 || /[/%*]/.test(pattern[5]!))) return "INBOX" + pattern.slice(5);
  return pattern;
}

/** mailboxFromWire, or the BAD reply for a name that does not decode. */
export function nameOrBad(ctx: Pick<SessionContext, "enabled">, wire: string): { name: string } | { bad: { status: "BAD"; text: string } } {
  try {
    return { name: mailboxFromWire(ctx, wire) };
  } catch (err) {
    return { bad: { status: "BAD", text: err instanceof InvalidMailboxName ? err.message : "invalid mailbox name" } };
  }
}
