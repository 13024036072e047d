import { decodedParam, parseStructuredValue, stripComments } from "./content-header.ts";
import { ENVELOPE_FIELDS, envelopeOf, type AddressCache } from "./envelope.ts";
import { headerMap } from "./header-block.ts";
import { searchFieldsOf } from "./search-fields.ts";
import type { Envelope, MessageStructure, MimePart, SearchFields } from "./types.ts";

/** Header bytes kept per entity; fields beyond are not read, offsets stay exact. */
export const HEADER_LIMIT = 64 * 1024;
/** Bytes of a body line kept across chunk boundaries: enough to recognise any boundary line. */
const BODY_LINE_KEEP = 1024;
const MAX_BOUNDARY = 200;
const MAX_DEPTH = 50;
const MAX_PARTS = 10_000;

const LF = 10;
const CR = 13;
const DASH = 45;
const HEADER = 0;
const BODY = 1;

const CONTENT_FIELDS: ReadonlySet<string> = new Set([
  "content-type",
  "content-transfer-encoding",
  "content-id",
  "content-description",
  "content-md5",
  "content-disposition",
  "content-language",
  "content-location",
]);
const MESSAGE_FIELDS: ReadonlySet<string> = new Set([...CONTENT_FIELDS, ...ENVELOPE_FIELDS]);
const TOKEN = /^[a-z0-9!#$%&'*+.^_`{|}~-]+$/;
const EMPTY = Buffer.alloc(0);

/** An entity still open while the data streams past. */
interface OpenEntity {
  state: typeof HEADER | typeof BODY;
  headerStart: number;
  depth: number;
  /** Header bytes collected so far (bounded by HEADER_LIMIT). */
  hdr: Buffer | null;
  hdrLen: number;
  hdrTruncated: boolean;
  /** Root entity of a message (top-level or encapsulated): its header also gives an envelope. */
  messageRoot: boolean;
  /** Section prefix of a message root: "" at top level, the message/rfc822 part's id inside one. */
  prefix: string;
  /** The message/rfc822 part an encapsulated root belongs to. */
  owner: MimePart | null;
  /** The multipart this entity is a child of. */
  parent: MimePart | null;
  /** Default Content-Type is message/rfc822 (children of multipart/digest). */
  digestChild: boolean;
  part: MimePart | null;
  lfAtBodyStart: number;
  /** The boundary (without the leading "--") while this multipart still accepts parts. */
  boundary: Buffer | null;
}

/**
 * Push parser for a message's MIME structure: feed it the message in chunks of any size with `write`, then `end`.
 * Memory stays bounded whatever the message size: only header blocks (each up to HEADER_LIMIT) and a partial line
 * are held.
 */
export class StructureParser {
  private readonly stack: OpenEntity[] = [];
  /** Absolute offset of the next line's first byte. */
  private pos = 0;
  /** Line feeds before `pos`. */
  private lfCount = 0;
  private prevEol = 0;
  private prevContentLen = 0;
  private activeBoundaries = 0;
  private entityCount = 1;
  private carrying = false;
  private carry: Buffer[] = [];
  private carryStored = 0;
  private carryTotal = 0;
  private carryLastByte = -1;
  private envelope: Envelope | null = null;
  private search: SearchFields | null = null;
  private root: MimePart | null = null;
  private ended = false;

  constructor() {
    this.stack.push(openEntity({ headerStart: 0, depth: 0, messageRoot: true }));
  }

  write(chunk: Uint8Array): void {
    if (this.ended) throw new Error("StructureParser: write after end");
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const n = buf.length;
    let pos = 0;
    if (n === 0) return;
    if (this.carrying) {
      const lf = buf.indexOf(LF);
      if (lf === -1) {
        this.addCarry(buf, 0, n);
        return;
      }
      const beforeLf = lf > 0 ? buf[lf - 1]! : this.carryLastByte;
      this.addCarry(buf, 0, lf + 1);
      this.flushCarry(beforeLf === CR ? 2 : 1);
      pos = lf + 1;
    }
    while (pos < n) {
      const lf = buf.indexOf(LF, pos);
      if (lf === -1) {
        this.carrying = true;
        this.addCarry(buf, pos, n);
        return;
      }
      const lineLen = lf + 1 - pos;
      const eol = lf > pos && buf[lf - 1] === CR ? 2 : 1;
      this.line(buf, pos, lineLen - eol, lineLen, eol);
      pos = lf + 1;
    }
  }

  end(): MessageStructure {
    if (this.ended) throw new Error("StructureParser: end called twice");
    if (this.carrying) this.flushCarry(0);
    this.ended = true;
    const total = this.pos;
    const endsWithLf = this.prevEol > 0;
    while (this.stack.length > 0) this.finish(this.stack.pop()!, total, this.lfCount, endsWithLf);
    return { size: total, envelope: this.envelope!, body: this.root!, search: this.search! };
  }

  private addCarry(buf: Buffer, start: number, end: number): void {
    const cap = this.top().state === HEADER ? HEADER_LIMIT : BODY_LINE_KEEP;
    const take = Math.min(cap - this.carryStored, end - start);
    if (take > 0) {
      this.carry.push(Buffer.from(buf.subarray(start, start + take)));
      this.carryStored += take;
    }
    this.carryTotal += end - start;
    if (end > start) this.carryLastByte = buf[end - 1]!;
  }

  private flushCarry(eol: number): void {
    const line = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryStored);
    const total = this.carryTotal;
    this.carrying = false;
    this.carry = [];
    this.carryStored = 0;
    this.carryTotal = 0;
    this.carryLastByte = -1;
    this.line(line, 0, total - eol, line.length, eol);
  }

  private top(): OpenEntity {
    return this.stack[this.stack.length - 1]!;
  }

  /** One line: `contentLen` bytes without its line ending of `eol` bytes; `stored` bytes of it are in buf at start. */
  private line(buf: Buffer, start: number, contentLen: number, stored: number, eol: number): void {
    const lineStart = this.pos;
    const lineLen = contentLen + eol;
    let handled = false;
    if (this.activeBoundaries > 0 && contentLen >= 2 && buf[start] === DASH && buf[start + 1] === DASH) {
      handled = this.boundaryLine(buf, start, contentLen, stored, lineStart, lineStart + lineLen);
    }
    if (!handled) {
      const top = this.top();
      if (top.state === HEADER) {
        if (contentLen === 0 && eol > 0) this.endHeader(top, lineStart + lineLen, this.lfCount + 1);
        else if (stored >= lineLen) appendHeader(top, buf, start, lineLen);
        else top.hdrTruncated = true;
      }
    }
    this.pos = lineStart + lineLen;
    if (eol > 0) this.lfCount++;
    this.prevEol = eol;
    this.prevContentLen = contentLen;
  }

  private boundaryLine(buf: Buffer, start: number, contentLen: number, stored: number, lineStart: number, next: number): boolean {
    if (stored < contentLen) return false;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const entity = this.stack[i]!;
      if (!entity.boundary) continue;
      const kind = boundaryKind(entity.boundary, buf, start, contentLen);
      if (kind === 0) continue;
      // The line break before the delimiter belongs to the delimiter (RFC 2046 5.1.1).
      const end = lineStart - this.prevEol;
      const lfEnd = this.lfCount - (this.prevEol > 0 ? 1 : 0);
      const endsWithLf = this.prevContentLen === 0;
      while (this.stack.length - 1 > i) this.finish(this.stack.pop()!, end, lfEnd, endsWithLf);
      if (kind === 2) {
        entity.boundary = null;
        this.activeBoundaries--;
      } else if (this.entityCount >= MAX_PARTS) {
        // Too many parts: stop splitting; what follows belongs to the entities still open.
        for (const e of this.stack) e.boundary = null;
        this.activeBoundaries = 0;
      } else {
        this.entityCount++;
        this.stack.push(
          openEntity({
            headerStart: next,
            depth: entity.depth + 1,
            parent: entity.part,
            digestChild: entity.part!.subtype === "digest",
          }),
        );
      }
      return true;
    }
    return false;
  }

  private endHeader(entity: OpenEntity, bodyStart: number, lfAtBodyStart: number): void {
    const part = this.completeHeader(entity, bodyStart);
    entity.state = BODY;
    entity.lfAtBodyStart = lfAtBodyStart;
    if (entity.depth >= MAX_DEPTH) return;
    if (part.type === "multipart") {
      const boundary = part.params.boundary;
      if (boundary && boundary.length <= MAX_BOUNDARY) {
        entity.boundary = Buffer.from(boundary, "utf8");
        this.activeBoundaries++;
      }
    } else if (isMessage(part) && this.entityCount < MAX_PARTS) {
      this.entityCount++;
      this.stack.push(openEntity({ headerStart: bodyStart, depth: entity.depth + 1, messageRoot: true, prefix: part.partId, owner: part }));
    }
  }

  /** Parses the collected header block into the entity's part, numbered and linked into the tree. */
  private completeHeader(entity: OpenEntity, bodyStart: number): MimePart {
    const block = entity.hdr ? entity.hdr.subarray(0, entity.hdrLen) : EMPTY;
    const headers = headerMap(block, entity.messageRoot ? MESSAGE_FIELDS : CONTENT_FIELDS);
    const part = partFromHeaders(headers, entity.digestChild);
    part.headerStart = entity.headerStart;
    part.bodyStart = bodyStart;
    part.bodyEnd = bodyStart;
    if (entity.hdrTruncated) part.headerTruncated = true;
    if (entity.messageRoot) {
      part.partId = part.type === "multipart" ? entity.prefix : entity.prefix ? `${entity.prefix}.1` : "1";
      const addresses: AddressCache = new Map();
      const envelope = envelopeOf(headers, addresses);
      if (entity.owner) {
        entity.owner.envelope = envelope;
        entity.owner.body = part;
      } else {
        this.envelope = envelope;
        this.search = searchFieldsOf(headers, addresses);
        this.root = part;
      }
    } else if (entity.parent) {
      const siblings = (entity.parent.children ??= []);
      part.partId = entity.parent.partId ? `${entity.parent.partId}.${siblings.length + 1}` : `${siblings.length + 1}`;
      siblings.push(part);
    }
    entity.part = part;
    entity.hdr = null;
    return part;
  }

  private finish(entity: OpenEntity, end: number, lfEnd: number, endsWithLf: boolean): void {
    let part = entity.part;
    if (entity.state === HEADER || !part) {
      // The header never ended: it runs up to the end, and the body is empty.
      part = this.completeHeader(entity, Math.max(entity.headerStart, end));
    } else {
      part.bodyEnd = Math.max(part.bodyStart, end);
      part.size = part.bodyEnd - part.bodyStart;
      part.lines = part.size === 0 ? 0 : lfEnd - entity.lfAtBodyStart + (endsWithLf ? 0 : 1);
    }
    if (entity.boundary) {
      entity.boundary = null;
      this.activeBoundaries--;
    }
    if (part.type === "multipart" && !part.children?.length) {
      const empty = partFromHeaders(new Map(), false);
      empty.partId = part.partId ? `${part.partId}.1` : "1";
      empty.headerStart = empty.bodyStart = empty.bodyEnd = part.bodyEnd;
      part.children = [empty];
    }
  }
}

function openEntity(init: Partial<OpenEntity> & { headerStart: number; depth: number }): OpenEntity {
  return {
    state: HEADER,
    hdr: null,
    hdrLen: 0,
    hdrTruncated: false,
    messageRoot: false,
    prefix: "",
    owner: null,
    parent: null,
    digestChild: false,
    part: null,
    lfAtBodyStart: 0,
    boundary: null,
    ...init,
  };
}

function appendHeader(entity: OpenEntity, buf: Buffer, start: number, len: number): void {
  if (entity.hdrTruncated) return;
  if (entity.hdrLen + len > HEADER_LIMIT) {
    entity.hdrTruncated = true;
    return;
  }
  const need = entity.hdrLen + len;
  if (!entity.hdr || entity.hdr.length < need) {
    let size = entity.hdr ? entity.hdr.length * 2 : 4096;
    while (size < need) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, HEADER_LIMIT));
    if (entity.hdr) entity.hdr.copy(grown, 0, 0, entity.hdrLen);
    entity.hdr = grown;
  }
  buf.copy(entity.hdr, entity.hdrLen, start, start + len);
  entity.hdrLen = need;
}

/** 0: not this boundary; 1: a delimiter line; 2: the close delimiter. Trailing spaces and tabs are allowed. */
function boundaryKind(boundary: Buffer, buf: Buffer, start: number, contentLen: number): 0 | 1 | 2 {
  const bl = boundary.length;
  if (contentLen < 2 + bl) return 0;
  if (buf.compare(boundary, 0, bl, start + 2, start + 2 + bl) !== 0) return 0;
  let p = start + 2 + bl;
  const end = start + contentLen;
  let kind: 1 | 2 = 1;
  if (p + 1 < end && buf[p] === DASH && buf[p + 1] === DASH) {
    kind = 2;
    p += 2;
  }
  for (; p < end; p++) {
    const c = buf[p];
    if (c !== 32 && c !== 9) return 0;
  }
  return kind;
}

function isMessage(part: MimePart): boolean {
  return (
    part.type === "message" &&
    (part.subtype === "rfc822" || part.subtype === "global") &&
    (part.encoding === "7BIT" || part.encoding === "8BIT" || part.encoding === "BINARY")
  );
}

/** The part's Content-* description, offsets and numbering left to the caller. */
function partFromHeaders(headers: ReadonlyMap<string, string>, digestChild: boolean): MimePart {
  let type = digestChild ? "message" : "text";
  let subtype = digestChild ? "rfc822" : "plain";
  let params: Record<string, string> = {};
  const ct = headers.get("content-type");
  if (ct !== undefined) {
    const parsed = parseStructuredValue(ct);
    params = parsed.params;
    const slash = parsed.value.indexOf("/");
    const t = parsed.value.slice(0, slash).trim();
    const s = parsed.value.slice(slash + 1).trim();
    if (slash > 0 && TOKEN.test(t) && TOKEN.test(s)) {
      type = t;
      subtype = s;
    }
  }
  if (type === "text" && subtype === "plain" && ct === undefined) params = { charset: "us-ascii" };

  const cte = headers.get("content-transfer-encoding");
  const encoding = cte === undefined ? "" : stripComments(cte).trim().split(/\s+/)[0]!.toUpperCase();

  let disposition = null;
  const cd = headers.get("content-disposition");
  if (cd !== undefined) {
    const parsed = parseStructuredValue(cd);
    if (parsed.value) disposition = { type: parsed.value, params: parsed.params };
  }

  const cl = headers.get("content-language");
  const language = cl === undefined ? [] : stripComments(cl).split(",").map((l) => l.trim()).filter((l) => l !== "");

  return {
    partId: "",
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: 0,
    type,
    subtype,
    params,
    id: headers.get("content-id") ?? null,
    description: headers.get("content-description") ?? null,
    encoding: encoding || "7BIT",
    size: 0,
    lines: 0,
    md5: headers.get("content-md5") ?? null,
    disposition,
    language: language.length > 0 ? language : null,
    location: headers.get("content-location") ?? null,
    filename: (disposition && decodedParam(disposition.params, "filename")) ?? decodedParam(params, "name"),
  };
}
