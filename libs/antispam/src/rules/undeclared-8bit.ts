import type { Rule } from "./rule.ts";

/**
 * Text in a national charset (GB2312, Big5, KOI8-R, windows-1252...) goes out with that charset
 * named in its Content-Type; a part that names none is US-ASCII (RFC 2045 §5.2). A text part that
 * names none, or US-ASCII, and still carries dozens of raw bytes above 127 was written by software
 * that never declared what it sent: mail programs do; bulk tools often do not. A stray accented
 * letter or two in a signature is not enough (TRAIN's easy ham has such parts with up to 9).
 * SpamAssassin's CTE_8BIT_MISMATCH and PP_MIME_FAKE_ASCII_TEXT look at the same thing.
 */
const ENOUGH = 30;
const MAX_PARTS = 50;
const MAX_DEPTH = 5;

export const undeclared8bitRule: Rule = {
  name: "undeclared-8bit",
  check({ content }) {
    const worst = Math.max(0, ...textPartsWithoutCharset(content.raw.toString("latin1")).map(highBytes));
    return worst >= ENOUGH ? [{ name: "TEXT_8BIT_UNDECLARED", detail: `${worst} bytes` }] : [];
  },
};

const HEADER_END = /\r?\n\r?\n/;
const CONTENT_TYPE = /^content-type:([^\n]*(?:\n[ \t][^\n]*)*)/im;
const TRANSFER_ENCODING = /^content-transfer-encoding:\s*([^\s;]+)/im;
const BOUNDARY = /boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i;
const CHARSET = /charset\s*=\s*"?([^";\s]+)/i;

/** The bodies (as latin1 strings, one character per byte) of the text parts that declare no charset but US-ASCII. */
function textPartsWithoutCharset(message: string): string[] {
  const found: string[] = [];
  let parts = 0;
  const walk = (entity: string, depth: number) => {
    if (++parts > MAX_PARTS) return;
    const end = HEADER_END.exec(entity);
    const header = end ? entity.slice(0, end.index) : entity;
    const body = end ? entity.slice(end.index + end[0].length) : "";
    const type = CONTENT_TYPE.exec(header)?.[1]?.trim() ?? "text/plain";
    if (/^multipart\//i.test(type)) {
      const match = BOUNDARY.exec(type);
      const boundary = match?.[1] ?? match?.[2];
      if (!boundary || depth >= MAX_DEPTH) return;
      const delimiter = `--${boundary}`;
      const pieces = body.split(/\r?\n/).reduce<string[][]>((acc, line) => {
        if (line.startsWith(delimiter)) acc.push([]);
        else acc[acc.length - 1]?.push(line);
        return acc;
      }, []);
      for (const piece of pieces) walk(piece.join("\n"), depth + 1);
      return;
    }
    if (!/^text\//i.test(type)) return;
    const charset = CHARSET.exec(type)?.[1]?.toLowerCase();
    if (charset && charset !== "us-ascii" && charset !== "ascii") return;
    const encoding = TRANSFER_ENCODING.exec(header)?.[1]?.toLowerCase();
    if (encoding === "base64" || encoding === "quoted-printable") return;
    found.push(body);
  };
  walk(message, 0);
  return found;
}

function highBytes(latin1: string): number {
  let n = 0;
  for (let i = 0; i < latin1.length; i++) if (latin1.charCodeAt(i) >= 0x80) n++;
  return n;
}
