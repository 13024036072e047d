/**
 * SEARCH keys as SQL over the messages table, where that is cheap: flags, internal and sent dates,
 * sizes, UID and sequence sets (resolved to UIDs by the view), \Recent (the view's per-session set),
 * MODSEQ, and SUBJECT/FROM/TO/CC/BCC (and HEADER of those names) against the cached, decoded
 * columns (case-insensitive substring with `position(lower(..) in lower(..))`). BODY, TEXT and
 * HEADER of any other field return null: they are evaluated in JavaScript over the message content
 * (./content.ts). A subtree holding such a key is evaluated in JavaScript as a whole (./evaluate.ts);
 * only the top-level AND is split between SQL and JavaScript.
 *
 * Dates compare calendar days in UTC (our INTERNALDATE is written in +0000); SENT* use the Date
 * header and fall back to the internal date when it is missing or unparseable.
 */
import type { SearchKey } from "../../protocol/types.ts";
import type { MailboxView } from "../core/mailbox-view.ts";

/** Header fields with a cached column. */
export const CACHED_HEADERS: Record<string, string> = {
  SUBJECT: "subject",
  FROM: "from_addr",
  TO: "to_addr",
  CC: "cc_addr",
  BCC: "bcc_addr",
};

export const SYSTEM_FLAG_NAMES = new Map(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((f) => [f.toLowerCase(), f]));

export class SqlBuilder {
  readonly params: unknown[];
  constructor(
    private readonly view: MailboxView,
    first: unknown[],
  ) {
    this.params = [...first];
  }

  private p(v: unknown): string {
    this.params.push(v);
    return `$${this.params.length}`;
  }

  /** The key as a SQL condition, or null when it needs the message content. */
  build(key: SearchKey): string | null {
    switch (key.kind) {
      case "all":
        return "TRUE";
      case "and": {
        const parts = key.keys.map((k) => this.build(k));
        if (parts.some((x) => x === null)) return null;
        return parts.length ? `(${parts.join(" AND ")})` : "TRUE";
      }
      case "or": {
        const a = this.build(key.left);
        const b = a === null ? null : this.build(key.right);
        return a === null || b === null ? null : `(${a} OR ${b})`;
      }
      case "not": {
        const a = this.build(key.key);
        return a === null ? null : `NOT COALESCE(${a}, FALSE)`;
      }
      case "flag": {
        const system = SYSTEM_FLAG_NAMES.get(key.flag.toLowerCase());
        const cond = system
          ? `${this.p(system)} = ANY(flags)`
          : `EXISTS (SELECT 1 FROM unnest(flags) f WHERE lower(f) = lower(${this.p(key.flag)}))`;
        return key.set ? cond : `NOT ${cond}`;
      }
      case "recent":
        return `${key.set ? "" : "NOT "}(uid = ANY(${this.p(this.view.recentUids())}::bigint[]))`;
      case "new":
        return `(uid = ANY(${this.p(this.view.recentUids())}::bigint[]) AND NOT '\\Seen' = ANY(flags))`;
      case "header": {
        const col = CACHED_HEADERS[key.field.toUpperCase()];
        if (!col) return null;
        return `COALESCE(position(lower(${this.p(key.value)}) in lower(${col})) > 0, FALSE)`;
      }
      case "body":
      case "text":
        return null;
      case "date": {
        const col = key.of === "internal" ? "internal_date" : "COALESCE(sent_date, internal_date)";
        const op = key.op === "before" ? "<" : key.op === "on" ? "=" : ">=";
        return `((${col} AT TIME ZONE 'UTC')::date ${op} ${this.p(key.date)}::date)`;
      }
      case "size":
        return `size ${key.op === "larger" ? ">" : "<"} ${this.p(key.octets)}`;
      case "seq":
        return `uid = ANY(${this.p(this.view.resolve(key.set, false))}::bigint[])`;
      case "uid":
        return `uid = ANY(${this.p(this.view.resolve(key.set, true))}::bigint[])`;
      case "modseq":
        return `modseq >= ${this.p(key.modseq)}`;
    }
  }
}

/** The conjuncts of a top-level AND (or the key itself). */
export function conjuncts(key: SearchKey): SearchKey[] {
  return key.kind === "and" ? key.keys.flatMap(conjuncts) : [key];
}

/** Whether the key mentions MODSEQ (the result then carries the highest modseq). */
export function usesModseq(key: SearchKey): boolean {
  switch (key.kind) {
    case "modseq":
      return true;
    case "and":
      return key.keys.some(usesModseq);
    case "or":
      return usesModseq(key.left) || usesModseq(key.right);
    case "not":
      return usesModseq(key.key);
    default:
      return false;
  }
}
