import type { Command, FetchAttribute, Partial, Section } from "../types.ts";
import type { ParseContext } from "./context.ts";
import type { Reader } from "./reader.ts";
import { sequenceSet } from "./sequence-set.ts";

const ITEM_CHAR = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e;

const SIMPLE: Record<string, FetchAttribute> = {
  FLAGS: { kind: "FLAGS" },
  INTERNALDATE: { kind: "INTERNALDATE" },
  "RFC822.SIZE": { kind: "RFC822.SIZE" },
  ENVELOPE: { kind: "ENVELOPE" },
  BODYSTRUCTURE: { kind: "BODYSTRUCTURE" },
  UID: { kind: "UID" },
  MODSEQ: { kind: "MODSEQ" },
  RFC822: { kind: "RFC822" },
  "RFC822.HEADER": { kind: "RFC822.HEADER" },
  "RFC822.TEXT": { kind: "RFC822.TEXT" },
};

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

/** section-part = nz-number *("." nz-number); `dot` tells whether a "." followed the last number (a section text comes next). */
function sectionPart(r: Reader): { part: number[]; dot: boolean } {
  const part: number[] = [];
  while (r.peek() >= 0x30 && r.peek() <= 0x39) {
    part.push(r.nzNumber("a section part number"));
    if (part.length > 100) r.fail("section part too deep");
    if (!r.tryChar(".")) return { part, dot: false };
  }
  return { part, dot: part.length > 0 };
}

/** section = "[" [section-spec] "]" (RFC 9051 6.4.5). */
function section(r: Reader): Section {
  r.expectChar("[", `"["`);
  const { part, dot } = sectionPart(r);
  const result: Section = { part };
  if (!dot && r.tryChar("]")) return result;
  if (part.length > 0 && !dot) r.fail(`expected "]" or "." after the section part`);
  const text = r.word(ITEM_CHAR, "a section text").toUpperCase();
  switch (text) {
    case "HEADER":
    case "TEXT":
      result.text = text;
      break;
    case "MIME":
      if (part.length === 0) r.fail("MIME needs a section part");
      result.text = "MIME";
      break;
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      result.text = text;
      r.sp();
      r.expectChar("(", "a list of header field names");
      const fields: string[] = [];
      do {
        const field = r.astring("a header field name").toUpperCase();
        if (!fields.includes(field)) fields.push(field);
        if (fields.length > 1000) r.fail("too many header fields");
      } while (r.trySp());
      r.expectChar(")", `")" closing the header field names`);
      result.fields = fields;
      break;
    }
    default:
      r.fail(`unknown section text ${text}`);
  }
  r.expectChar("]", `"]" closing the section`);
  return result;
}

/** partial = "<" number "." nz-number ">". */
function partial(r: Reader): Partial | undefined {
  if (!r.tryChar("<")) return undefined;
  const offset = r.number(0xffffffff, "a partial offset");
  r.expectChar(".", `"." in the partial range`);
  const length = r.nzNumber("a partial length");
  r.expectChar(">", `">" closing the partial range`);
  return { offset, length };
}

/** section-binary = "[" [section-part] "]". */
function binarySection(r: Reader): number[] {
  r.expectChar("[", `"["`);
  const part: number[] = [];
  if (!r.tryChar("]")) {
    do part.push(r.nzNumber("a section part number"));
    while (r.tryChar(".") && part.length <= 100);
    r.expectChar("]", `"]" closing the binary section`);
  }
  return part;
}

function attribute(r: Reader): FetchAttribute {
  const name = r.word(ITEM_CHAR, "a fetch attribute").toUpperCase();
  const simple = SIMPLE[name];
  if (simple) return simple;
  switch (name) {
    case "BODY":
    case "BODY.PEEK": {
      if (r.peek() !== 0x5b) {
        if (name === "BODY.PEEK") r.fail(`expected "[" after BODY.PEEK`);
        return { kind: "BODY" };
      }
      const s = section(r);
      const p = partial(r);
      const a: FetchAttribute = { kind: "BODY[]", section: s, peek: name === "BODY.PEEK" };
      if (p) a.partial = p;
      return a;
    }
    case "BINARY":
    case "BINARY.PEEK": {
      const part = binarySection(r);
      const p = partial(r);
      const a: FetchAttribute = { kind: "BINARY", part, peek: name === "BINARY.PEEK" };
      if (p) a.partial = p;
      return a;
    }
    case "BINARY.SIZE":
      return { kind: "BINARY.SIZE", part: binarySection(r) };
    default:
      return r.fail(`unknown fetch attribute ${name}`);
  }
}

/** FETCH SP sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")") [SP "(" modifiers ")"]. */
export function parseFetch(r: Reader, ctx: ParseContext): Command {
  r.sp();
  const set = sequenceSet(r);
  r.sp();
  let attributes: FetchAttribute[] = [];
  if (r.tryChar("(")) {
    do {
      attributes.push(attribute(r));
      if (attributes.length > 1000) r.fail("too many fetch attributes");
    } while (r.trySp());
    r.expectChar(")", `")" closing the fetch attributes`);
  } else {
    const macro = ["ALL", "FAST", "FULL"].find((name) => r.tryKeyword(name));
    if (macro) attributes = MACROS[macro]!.map((name): FetchAttribute => SIMPLE[name] ?? { kind: "BODY" });
    else attributes.push(attribute(r));
  }
  const command: Extract<Command, { name: "FETCH" }> = { name: "FETCH", uid: ctx.uid, set, attributes };
  if (r.trySp()) {
    r.expectChar("(", "fetch modifiers");
    do {
      const modifier = r.atom("a fetch modifier").toUpperCase();
      if (modifier === "CHANGEDSINCE") {
        r.sp();
        command.changedSince = r.modseq(true);
      } else if (modifier === "VANISHED") command.vanished = true;
      else r.fail(`unknown fetch modifier ${modifier}`);
    } while (r.trySp());
    r.expectChar(")", `")" closing fetch modifiers`);
    if (command.vanished && (!ctx.uid || command.changedSince === undefined)) {
      r.fail("VANISHED needs UID FETCH and CHANGEDSINCE");
    }
  }
  const has = (kind: string): boolean => attributes.some((a) => a.kind === kind);
  // RFC 3501 6.4.8: UID FETCH always returns UID; RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ.
  if (ctx.uid && !has("UID")) attributes.unshift({ kind: "UID" });
  if (command.changedSince !== undefined && !has("MODSEQ")) attributes.push({ kind: "MODSEQ" });
  command.attributes = attributes;
  return command;
}
