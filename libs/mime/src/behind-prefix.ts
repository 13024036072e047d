import { HEADER_LIMIT, StructureParser } from "./structure-parser.ts";
import type { MessageStructure, MimePart } from "./types.ts";

/**
 * A message's structure together with its line ending: what it takes to know the structure of the
 * same message behind a block of header fields put on top of it (delivery's Return-Path,
 * X-Postline-Spam and Authentication-Results) without reading the message again. The spam filter
 * reads every message whole anyway; it parses it on the way (PrefixableParser) and hands this to
 * delivery, which shifts it (behindPrefix).
 */
export interface PrefixableStructure {
  /** The line ending of the message's first line (CRLF unless that line ends in a bare LF). */
  eol: "\r\n" | "\n";
  structure: MessageStructure;
}

/** Parses a message streamed through `write`; `end` gives its PrefixableStructure, or null when none holds. */
export class PrefixableParser {
  private readonly parser = new StructureParser();
  private firstByte: number | undefined;
  private eol: "\r\n" | "\n" | undefined;
  private lastByte: number | undefined;

  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.firstByte ??= chunk[0];
    if (this.eol === undefined) {
      const lf = chunk.indexOf(10);
      if (lf !== -1) this.eol = (lf > 0 ? chunk[lf - 1] : this.lastByte) === 13 ? "\r\n" : "\n";
    }
    this.lastByte = chunk[chunk.length - 1];
    this.parser.write(chunk);
  }

  /**
   * Null for a message whose first line starts with a space or a tab: behind header fields it would
   * continue the last of them, so its structure there is not this one shifted.
   */
  end(): PrefixableStructure | null {
    const structure = this.parser.end();
    if (this.firstByte === 0x20 || this.firstByte === 0x09) return null;
    return { eol: this.eol ?? "\r\n", structure };
  }
}

/**
 * The structure of `prefixLength` octets of header fields followed by the message: every offset
 * moves by the prefix's length, except the start of the top-level header, which the prefix begins.
 * The header fields themselves (envelope, search fields, MIME parameters) are the message's: the
 * prefix must hold none of them. Null when the prefix would change how the top-level header is
 * read (the parser keeps at most HEADER_LIMIT octets of it): parse the whole instead.
 */
export function behindPrefix(parsed: PrefixableStructure, prefixLength: number): MessageStructure | null {
  const { structure } = parsed;
  if (structure.body.headerTruncated || structure.body.bodyStart + prefixLength >= HEADER_LIMIT) return null;
  return { ...structure, size: structure.size + prefixLength, body: shifted(structure.body, prefixLength, 0) };
}

function shifted(part: MimePart, by: number, headerStart: number): MimePart {
  const out: MimePart = { ...part, headerStart, bodyStart: part.bodyStart + by, bodyEnd: part.bodyEnd + by };
  if (part.children) out.children = part.children.map((c) => shifted(c, by, c.headerStart + by));
  if (part.body) out.body = shifted(part.body, by, part.body.headerStart + by);
  return out;
}
