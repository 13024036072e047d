import type { MimePart } from "@postline/mime";
import { nstring, string } from "./encode.ts";
import { envelopeText } from "./envelope.ts";

/** body-fld-param: "(" name SP value *(...) ")" or NIL. */
function params(p: Record<string, string>): string {
  const entries = Object.entries(p);
  if (entries.length === 0) return "NIL";
  return `(${entries.map(([k, v]) => `${string(k.toUpperCase())} ${string(v)}`).join(" ")})`;
}

/** body-fld-dsp SP body-fld-lang SP body-fld-loc: the extension data both part kinds end with. */
function dispositionLanguageLocation(part: MimePart): string {
  const dsp = part.disposition ? `(${string(part.disposition.type.toUpperCase())} ${params(part.disposition.params)})` : "NIL";
  const lang = part.language === null || part.language.length === 0
    ? "NIL"
    : part.language.length === 1
      ? string(part.language[0]!)
      : `(${part.language.map(string).join(" ")})`;
  return `${dsp} ${lang} ${nstring(part.location)}`;
}

/** body-fields: params id description encoding octets. */
function fields(part: MimePart): string {
  return `${params(part.params)} ${nstring(part.id)} ${nstring(part.description)} ${string(part.encoding)} ${part.size}`;
}

function isMessage(part: MimePart): boolean {
  return part.type === "message" && (part.subtype === "rfc822" || part.subtype === "global") && part.envelope !== undefined && part.body !== undefined;
}

/**
 * BODYSTRUCTURE (`extensible`: with md5, disposition, language and location) or BODY (without), RFC 9051 7.5.2.
 * A message/rfc822 or message/global part that the MIME parser could not open is described as a basic part.
 */
export function bodyStructureText(part: MimePart, extensible: boolean): string {
  const out: string[] = [];
  write(part, extensible, out, 0);
  return out.join("");
}

function write(part: MimePart, extensible: boolean, out: string[], depth: number): void {
  if (part.children && part.children.length > 0 && depth < 100) {
    out.push("(");
    for (const child of part.children) write(child, extensible, out, depth + 1);
    out.push(` ${string(part.subtype.toUpperCase())}`);
    if (extensible) out.push(` ${params(part.params)} ${dispositionLanguageLocation(part)}`);
    out.push(")");
    return;
  }
  out.push(`(${string(part.type.toUpperCase())} ${string(part.subtype.toUpperCase())} ${fields(part)}`);
  if (isMessage(part) && depth < 100) {
    out.push(` ${envelopeText(part.envelope!)} `);
    write(part.body!, extensible, out, depth + 1);
    out.push(` ${part.lines}`);
  } else if (part.type === "text") {
    out.push(` ${part.lines}`);
  }
  if (extensible) out.push(` ${nstring(part.md5)} ${dispositionLanguageLocation(part)}`);
  out.push(")");
}
