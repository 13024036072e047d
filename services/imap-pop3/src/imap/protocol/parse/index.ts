import type { CommandSegment } from "../segments.ts";
import type { ParseFailure, Request } from "../types.ts";
import { parseAppend } from "./append.ts";
import { parseAuthenticate } from "./authenticate.ts";
import type { CommandParser } from "./context.ts";
import { parseCopyMove } from "./copy-move.ts";
import { parseEnable } from "./enable.ts";
import { parseFetch } from "./fetch.ts";
import { parseId } from "./id.ts";
import { parseList, parseLsub } from "./list.ts";
import { parseLogin } from "./login.ts";
import { parseCreate, parseOneMailbox, parseRename } from "./mailbox.ts";
import { parseGetQuota, parseGetQuotaRoot, parseSetQuota } from "./quota.ts";
import { ParseError, Reader } from "./reader.ts";
import { parseSearch } from "./search.ts";
import { parseSelect } from "./select.ts";
import { parseExpunge, parseNoArguments } from "./simple.ts";
import { parseStatus } from "./status.ts";
import { parseStore } from "./store.ts";

export { ParseError, Reader, decodeText } from "./reader.ts";

const COMMANDS: Record<string, CommandParser> = {
  CAPABILITY: parseNoArguments,
  NOOP: parseNoArguments,
  LOGOUT: parseNoArguments,
  STARTTLS: parseNoArguments,
  CHECK: parseNoArguments,
  CLOSE: parseNoArguments,
  UNSELECT: parseNoArguments,
  NAMESPACE: parseNoArguments,
  IDLE: parseNoArguments,
  EXPUNGE: parseExpunge,
  LOGIN: parseLogin,
  AUTHENTICATE: parseAuthenticate,
  ENABLE: parseEnable,
  ID: parseId,
  SELECT: parseSelect,
  EXAMINE: parseSelect,
  CREATE: parseCreate,
  DELETE: parseOneMailbox,
  SUBSCRIBE: parseOneMailbox,
  UNSUBSCRIBE: parseOneMailbox,
  RENAME: parseRename,
  LIST: parseList,
  LSUB: parseLsub,
  STATUS: parseStatus,
  APPEND: parseAppend,
  SEARCH: parseSearch,
  FETCH: parseFetch,
  STORE: parseStore,
  COPY: parseCopyMove,
  MOVE: parseCopyMove,
  GETQUOTA: parseGetQuota,
  GETQUOTAROOT: parseGetQuotaRoot,
  SETQUOTA: parseSetQuota,
};

/** Commands that may follow `UID`. */
const UID_COMMANDS = new Set(["FETCH", "STORE", "COPY", "MOVE", "SEARCH", "EXPUNGE"]);

const NAME_CHAR = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e || c === 0x5f;

/** Reads `tag SP command` off a received command; never throws. */
export function parseCommand(segments: CommandSegment[]): { request: Request } | { failure: ParseFailure } {
  const r = new Reader(segments);
  let tag: string | null = null;
  try {
    tag = r.tag();
    if (!r.trySp()) return { failure: { tag, text: "expected a space and a command after the tag" } };
    let name = r.word(NAME_CHAR, "a command name").toUpperCase();
    let uid = false;
    if (name === "UID") {
      r.sp();
      uid = true;
      name = r.word(NAME_CHAR, "a command after UID").toUpperCase();
      if (!UID_COMMANDS.has(name)) return { failure: { tag, text: `UID ${name.slice(0, 32)}: unknown command` } };
    }
    const parser = COMMANDS[name];
    if (!parser) return { failure: { tag, text: "unknown command" } };
    const command = parser(r, { name, uid });
    r.end();
    return { request: { tag, command } };
  } catch (err) {
    if (err instanceof ParseError) return { failure: { tag, text: `${err.message}` } };
    return { failure: { tag, text: "invalid command" } };
  }
}

/** The tag at the start of a line, when it looks like one (for failures found before parsing). */
export function tagOf(line: Buffer): string | null {
  try {
    const tag = new Reader([{ text: line }]).tag();
    return tag.length <= 64 ? tag : null;
  } catch {
    return null;
  }
}
