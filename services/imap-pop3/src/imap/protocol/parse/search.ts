import type { Command, SearchKey, SearchReturn } from "../types.ts";
import type { ParseContext } from "./context.ts";
import { searchDate } from "./date.ts";
import { canonicalFlag } from "./flags.ts";
import { decodeText, type Reader } from "./reader.ts";
import { sequenceSet, startsSequenceSet } from "./sequence-set.ts";

const RETURNS = new Set<SearchReturn>(["MIN", "MAX", "ALL", "COUNT", "SAVE"]);
const MAX_DEPTH = 64;

const FLAG_KEYS: Record<string, { flag: string; set: boolean }> = {
  ANSWERED: { flag: "\\Answered", set: true },
  DELETED: { flag: "\\Deleted", set: true },
  DRAFT: { flag: "\\Draft", set: true },
  FLAGGED: { flag: "\\Flagged", set: true },
  SEEN: { flag: "\\Seen", set: true },
  UNANSWERED: { flag: "\\Answered", set: false },
  UNDELETED: { flag: "\\Deleted", set: false },
  UNDRAFT: { flag: "\\Draft", set: false },
  UNFLAGGED: { flag: "\\Flagged", set: false },
  UNSEEN: { flag: "\\Seen", set: false },
};
const HEADER_KEYS = new Set(["FROM", "TO", "CC", "BCC", "SUBJECT"]);
const DATE_KEYS: Record<string, { of: "internal" | "sent"; op: "before" | "on" | "since" }> = {
  BEFORE: { of: "internal", op: "before" },
  ON: { of: "internal", op: "on" },
  SINCE: { of: "internal", op: "since" },
  SENTBEFORE: { of: "sent", op: "before" },
  SENTON: { of: "sent", op: "on" },
  SENTSINCE: { of: "sent", op: "since" },
};

/** Decodes search strings in the CHARSET the client named (RFC 9051 6.4.4). */
type Decode = (bytes: Buffer) => string;

function decoderFor(r: Reader, charset: string): Decode {
  const upper = charset.toUpperCase();
  if (upper === "UTF-8" || upper === "US-ASCII") return decodeText;
  try {
    const decoder = new TextDecoder(charset, { fatal: false });
    return (bytes) => decoder.decode(bytes);
  } catch {
    return r.fail(`[BADCHARSET (US-ASCII UTF-8)] unsupported charset ${charset}`);
  }
}

function key(r: Reader, decode: Decode, depth: number): SearchKey {
  if (depth > MAX_DEPTH) r.fail("search keys nested too deeply");
  if (r.tryChar("(")) {
    const keys = keyList(r, decode, depth + 1);
    r.expectChar(")", `")" closing the search key group`);
    return keys.length === 1 ? keys[0]! : { kind: "and", keys };
  }
  if (startsSequenceSet(r)) return { kind: "seq", set: sequenceSet(r) };
  const name = r.atom("a search key").toUpperCase();
  const flagKey = FLAG_KEYS[name];
  if (flagKey) return { kind: "flag", ...flagKey };
  const dateKey = DATE_KEYS[name];
  if (dateKey) {
    r.sp();
    return { kind: "date", ...dateKey, date: searchDate(r) };
  }
  if (HEADER_KEYS.has(name)) {
    r.sp();
    return { kind: "header", field: name, value: decode(r.astringBytes("a search string")) };
  }
  switch (name) {
    case "ALL":
      return { kind: "all" };
    case "NEW":
      return { kind: "new" };
    case "OLD":
      return { kind: "recent", set: false };
    case "RECENT":
      return { kind: "recent", set: true };
    case "KEYWORD":
    case "UNKEYWORD": {
      r.sp();
      const backslash = r.tryChar("\\");
      const flag = r.atom("a keyword");
      return { kind: "flag", flag: backslash ? canonicalFlag(`\\${flag}`) : flag, set: name === "KEYWORD" };
    }
    case "BODY":
    case "TEXT":
      r.sp();
      return { kind: name === "BODY" ? "body" : "text", value: decode(r.astringBytes("a search string")) };
    case "HEADER": {
      r.sp();
      const field = r.astring("a header field name").toUpperCase();
      r.sp();
      return { kind: "header", field, value: decode(r.astringBytes("a search string")) };
    }
    case "LARGER":
    case "SMALLER":
      r.sp();
      return { kind: "size", op: name === "LARGER" ? "larger" : "smaller", octets: r.number(Number.MAX_SAFE_INTEGER, "a size") };
    case "NOT":
      r.sp();
      return { kind: "not", key: key(r, decode, depth + 1) };
    case "OR": {
      r.sp();
      const left = key(r, decode, depth + 1);
      r.sp();
      return { kind: "or", left, right: key(r, decode, depth + 1) };
    }
    case "UID":
      r.sp();
      return { kind: "uid", set: sequenceSet(r) };
    case "MODSEQ": {
      // MODSEQ [SP entry-name SP entry-type-req] SP mod-sequence-valzer (RFC 7162 3.1.5); the entry is accepted and ignored.
      r.sp();
      if (r.peek() === 0x22 || r.atLiteral()) {
        r.string("an entry name");
        r.sp();
        const type = r.atom("an entry type").toUpperCase();
        if (type !== "PRIV" && type !== "SHARED" && type !== "ALL") r.fail(`bad entry type ${type}`);
        r.sp();
      }
      return { kind: "modseq", modseq: r.modseq(true) };
    }
    default:
      return r.fail(`unknown search key ${name}`);
  }
}

function keyList(r: Reader, decode: Decode, depth: number): SearchKey[] {
  const keys: SearchKey[] = [];
  do {
    keys.push(key(r, decode, depth));
    if (keys.length > 1000) r.fail("too many search keys");
  } while (r.trySp());
  return keys;
}

/** SEARCH [SP RETURN SP "(" [return-opt *(SP return-opt)] ")"] SP ["CHARSET" SP charset SP] search-key *(SP search-key). */
export function parseSearch(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const command: Extract<Command, { name: "SEARCH" }> = { name: "SEARCH", uid: ctx.uid, key: { kind: "all" } };
  if (r.tryKeyword("RETURN")) {
    r.sp();
    r.expectChar("(", `"(" after RETURN`);
    const returns: SearchReturn[] = [];
    if (!r.tryChar(")")) {
      do {
        const option = r.atom("a search return option").toUpperCase() as SearchReturn;
        if (!RETURNS.has(option)) r.fail(`unknown search return option ${option}`);
        if (!returns.includes(option)) returns.push(option);
      } while (r.trySp());
      r.expectChar(")", `")" closing return options`);
    }
    command.returns = returns;
    r.sp();
  }
  let decode: Decode = decodeText;
  if (r.tryKeyword("CHARSET")) {
    r.sp();
    const charset = r.astring("a charset");
    command.charset = charset;
    decode = decoderFor(r, charset);
    r.sp();
  }
  const keys = keyList(r, decode, 0);
  command.key = keys.length === 1 ? keys[0]! : { kind: "and", keys };
  return command;
}
