/**
 * SEARCH keys evaluated in JavaScript for one message: used for the parts of a search that SQL
 * cannot answer (./sql.ts), i.e. any subtree with BODY, TEXT or HEADER of an uncached field.
 *
 * Content semantics (case-insensitive substring over decoded text):
 * - BODY: the text/* parts of the message, including those inside message/rfc822 parts, with their
 *   transfer encoding (base64, quoted-printable) and charset decoded. Non-text parts (attachments)
 *   are not searched.
 * - TEXT: the message's header (RFC 2047 words decoded), the headers of encapsulated messages, and
 *   what BODY searches.
 * - HEADER name value: every occurrence of the field in the top-level header, unfolded and decoded;
 *   an empty value matches any message that has the field.
 * Each message's text is read once per SEARCH (lazily, only when a key needs it), part by part with
 * ranged reads from the blob store.
 */
import type { BlobStore } from "@postline/blobstore";
import { contentOf, openContent, readContentRange, type MessageContent as StoredContent } from "@postline/mailstore";
import { allParts, decodeWords, fieldValue, headerFieldsOf, headerText, parseMessage, type MimePart } from "@postline/mime";
import type { SearchKey } from "../../protocol/types.ts";
import type { MailboxView } from "../core/mailbox-view.ts";
import { decodeAll, decodeCharset } from "../fetch/decode.ts";
import { CACHED_HEADERS, SYSTEM_FLAG_NAMES } from "./sql.ts";

export interface SearchRow {
  uid: number;
  modseq: number;
  flags: string[];
  internal_date: Date;
  sent_date: Date | null;
  size: number;
  blob_hash: string;
  header_prefix: Uint8Array | null;
  bodystructure: MimePart | null;
  subject: string | null;
  from_addr: string | null;
  to_addr: string | null;
  cc_addr: string | null;
  bcc_addr: string | null;
}

/** Lazily loaded content of one message. */
export class MessageContent {
  private structure: Promise<MimePart> | undefined;
  private header: Promise<Buffer> | undefined;
  private bodyText: Promise<string> | undefined;
  private allText: Promise<string> | undefined;

  private readonly stored: StoredContent;

  constructor(
    private readonly blobs: BlobStore,
    private readonly row: SearchRow,
  ) {
    this.stored = contentOf(row.blob_hash, row.header_prefix);
  }

  private root(): Promise<MimePart> {
    this.structure ??= this.row.bodystructure
      ? Promise.resolve(this.row.bodystructure)
      : openContent(this.blobs, this.stored).then(async (s) => (await parseMessage(s)).body);
    return this.structure;
  }

  topHeader(): Promise<Buffer> {
    this.header ??= this.root().then((r) => readContentRange(this.blobs, this.stored, r.headerStart, r.bodyStart));
    return this.header;
  }

  body(): Promise<string> {
    this.bodyText ??= (async () => {
      const root = await this.root();
      const texts: string[] = [];
      for (const p of allParts(root)) {
        if (p.children || p.type !== "text") continue;
        const raw = await readContentRange(this.blobs, this.stored, p.bodyStart, p.bodyEnd);
        texts.push(decodeCharset(decodeAll(p.encoding, raw), p.params.charset).toLowerCase());
      }
      return texts.join("\n");
    })();
    return this.bodyText;
  }

  text(): Promise<string> {
    this.allText ??= (async () => {
      const root = await this.root();
      const headers: string[] = [decodeWords(headerText(await this.topHeader())).toLowerCase()];
      for (const p of allParts(root)) {
        if (p !== root && p.type === "message" && p.body) {
          const h = await readContentRange(this.blobs, this.stored, p.body.headerStart, p.body.bodyStart);
          headers.push(decodeWords(headerText(h)).toLowerCase());
        }
      }
      return `${headers.join("\n")}\n${await this.body()}`;
    })();
    return this.allText;
  }
}

const contains = (haystack: string | null, needle: string): boolean => haystack !== null && haystack.toLowerCase().includes(needle.toLowerCase());

const resolved = new WeakMap<SearchKey, Set<number>>();

/** A SEQ or UID key's UIDs, resolved once per key. */
function resolvedSet(key: Extract<SearchKey, { kind: "seq" | "uid" }>, view: MailboxView): Set<number> {
  let set = resolved.get(key);
  if (!set) resolved.set(key, (set = new Set(view.resolve(key.set, key.kind === "uid"))));
  return set;
}

const utcDay = (d: Date): string => d.toISOString().slice(0, 10);

export async function evaluate(key: SearchKey, row: SearchRow, content: MessageContent, view: MailboxView): Promise<boolean> {
  switch (key.kind) {
    case "all":
      return true;
    case "and":
      for (const k of key.keys) if (!(await evaluate(k, row, content, view))) return false;
      return true;
    case "or":
      return (await evaluate(key.left, row, content, view)) || evaluate(key.right, row, content, view);
    case "not":
      return !(await evaluate(key.key, row, content, view));
    case "flag": {
      const want = (SYSTEM_FLAG_NAMES.get(key.flag.toLowerCase()) ?? key.flag).toLowerCase();
      return row.flags.some((f) => f.toLowerCase() === want) === key.set;
    }
    case "recent":
      return view.isRecent(row.uid) === key.set;
    case "new":
      return view.isRecent(row.uid) && !row.flags.includes("\\Seen");
    case "header": {
      const col = CACHED_HEADERS[key.field.toUpperCase()] as keyof SearchRow | undefined;
      if (col) return contains(row[col] as string | null, key.value);
      const header = await content.topHeader();
      const name = key.field.toLowerCase();
      return headerFieldsOf(header).some((f) => f.key === name && contains(decodeWords(fieldValue(header, f)), key.value));
    }
    case "body":
      return (await content.body()).includes(key.value.toLowerCase());
    case "text":
      return (await content.text()).includes(key.value.toLowerCase());
    case "date": {
      const d = key.of === "internal" ? row.internal_date : (row.sent_date ?? row.internal_date);
      const day = utcDay(new Date(d));
      return key.op === "before" ? day < key.date : key.op === "on" ? day === key.date : day >= key.date;
    }
    case "size":
      return key.op === "larger" ? row.size > key.octets : row.size < key.octets;
    case "seq":
    case "uid":
      return resolvedSet(key, view).has(row.uid);
    case "modseq":
      return row.modseq >= key.modseq;
  }
}
