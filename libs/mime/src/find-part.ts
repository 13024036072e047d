import type { MessageStructure, MimePart } from "./types.ts";

/** Every entity of the tree, depth first in message order (message/rfc822 parts followed by their contents). */
export function allParts(structure: MessageStructure | MimePart): MimePart[] {
  const out: MimePart[] = [];
  const visit = (p: MimePart): void => {
    out.push(p);
    if (p.body) visit(p.body);
    for (const c of p.children ?? []) visit(c);
  };
  visit("body" in structure && "search" in structure ? structure.body : (structure as MimePart));
  return out;
}

/**
 * The entity an IMAP section number ("1", "2.3") names, or null. "" is the root entity. For a message/rfc822 part
 * "2", the section "2" names the message/rfc822 part itself (BODY[2] is the whole encapsulated message) and "2.1"
 * the first entity inside it; use `.body` for the encapsulated message's own header (BODY[2.HEADER]).
 */
export function findPart(structure: MessageStructure, section: string): MimePart | null {
  if (section === "") return structure.body;
  let best: MimePart | null = null;
  for (const p of allParts(structure)) {
    // A multipart root of an encapsulated message shares its number with the message/rfc822 part; the latter wins.
    if (p.partId === section && !best) best = p;
  }
  return best;
}
