import type { Reader } from "./reader.ts";

const SYSTEM = new Map(["\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT", "\\RECENT"].map((f) => [f, f.slice(0, 2) + f.slice(2).toLowerCase()]));

/** System flags in their canonical case (`\seen` → `\Seen`); keywords as given. */
export function canonicalFlag(flag: string): string {
  return SYSTEM.get(flag.toUpperCase()) ?? flag;
}

/** flag = "\Answered" / ... / keyword / flag-extension. `\Recent` and `\*` are refused where a client may not set them. */
export function flag(r: Reader, allowRecent = false): string {
  const backslash = r.tryChar("\\");
  const name = r.atom("a flag");
  if (!backslash) return name;
  const value = canonicalFlag(`\\${name}`);
  if (value === "\\Recent" && !allowRecent) r.fail("\\Recent cannot be set");
  return value;
}

/** flag-list = "(" [flag *(SP flag)] ")". */
export function flagList(r: Reader): string[] {
  r.expectChar("(", "a flag list");
  const flags: string[] = [];
  if (r.tryChar(")")) return flags;
  do {
    const f = flag(r);
    if (!flags.includes(f)) flags.push(f);
  } while (r.trySp());
  r.expectChar(")", `")" closing the flag list`);
  return flags;
}

/** STORE's flags: a parenthesised list or flags separated by spaces. */
export function storeFlags(r: Reader): string[] {
  if (r.peek() === 0x28) return flagList(r);
  const flags: string[] = [];
  do {
    const f = flag(r);
    if (!flags.includes(f)) flags.push(f);
  } while (r.trySp());
  return flags;
}
