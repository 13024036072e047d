/**
 * Seeded generator of IMAP client input for fuzzing: valid commands, mutations of them (truncated,
 * duplicated, oversized or lying literals, unbalanced parentheses, flipped and injected octets),
 * token soups and random bytes. Used by protocol-fuzz.test.ts against the receiver and parsers, and
 * reusable against a running server.
 */

export interface GeneratedCommand {
  /** "valid" (parses as a request when sent alone), a mutation's name, "soup" or "bytes". */
  kind: string;
  /** The octets a client would send (usually ending in CRLF; truncations may not). */
  bytes: Buffer;
}

/** mulberry32: a small, fast, seeded PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)]!;

/** Valid commands; `{L:text}` stands for a synchronising literal of `text`, `{L+:text}` for a non-synchronising one, `{L8:text}` for literal8. */
const VALID = [
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "LOGIN alice secret",
  'LOGIN "al\\"ice" {L:pass word}',
  "AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==",
  "AUTHENTICATE PLAIN",
  "ENABLE CONDSTORE QRESYNC",
  'ID ("name" "fuzz" "version" NIL)',
  "ID NIL",
  "NAMESPACE",
  "SELECT INBOX",
  "EXAMINE INBOX (CONDSTORE)",
  "SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541 (1:3 5:7)))",
  'CREATE "New Box" (USE (\\Drafts))',
  "DELETE &U,BTFw-",
  'RENAME "a" {L+:b c}',
  "SUBSCRIBE news",
  "UNSUBSCRIBE news",
  'LIST "" *',
  'LIST (SUBSCRIBED RECURSIVEMATCH) "" ("INBOX" %) RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))',
  'LSUB "" %',
  "STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)",
  'APPEND INBOX (\\Seen $Junk) "05-Jul-1994 02:37:05 -0700" {L:From: a@b.c\r\nSubject: x\r\n\r\nbody\r\n}',
  "APPEND Drafts {L+:Subject: y\r\n\r\n}",
  "APPEND INBOX {L8:bin\u0000ary}",
  "CHECK",
  "CLOSE",
  "UNSELECT",
  "EXPUNGE",
  "UID EXPUNGE 3000:3002",
  'SEARCH CHARSET UTF-8 OR (FROM "smith" SINCE 1-Feb-1994) NOT (LARGER 100 SMALLER 5) 1:*',
  "UID SEARCH RETURN (MIN MAX COUNT SAVE) UNSEEN KEYWORD $Junk HEADER X-Spam yes",
  'SEARCH MODSEQ "/flags/\\\\draft" all 620162338 UID $',
  "SEARCH TEXT {L:caf\u00e9}",
  "FETCH 1:* (FLAGS ENVELOPE)",
  "FETCH 2,4:6 FULL",
  "UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (FROM TO)] BODY[1.2.MIME] BODY[]<0.1024> BINARY.PEEK[1] BINARY.SIZE[2]) (CHANGEDSINCE 12345 VANISHED)",
  "FETCH * BODYSTRUCTURE",
  "STORE 1:3 +FLAGS.SILENT (\\Deleted)",
  "UID STORE 5 (UNCHANGEDSINCE 9) FLAGS \\Seen $Forwarded",
  "COPY 1:2 Archive",
  "UID MOVE 42:69 Trash",
  "IDLE",
  'GETQUOTA ""',
  "GETQUOTAROOT INBOX",
  'SETQUOTA "" (STORAGE 512)',
] as const;

const TOKENS = [
  "(", ")", "[", "]", "<", ">", "{", "}", "{5}", "{3+}", "~{2}", "{0}", "{99999999999}", '"', '""', '"q\\"x"', '"\\', "\\", "\\Seen", "NIL", "*", "%",
  "1:*", "$", "0", "4294967296", "1.2.3", "BODY[", "BODY[]", "BODY.PEEK[TEXT]", "<0.10>", "UID", "FETCH", "SEARCH", "OR", "NOT", "ALL", "RETURN",
  "CHARSET", "SELECT", "APPEND", "LOGIN", "LIST", "INBOX", "HEADER.FIELDS", "CHANGEDSINCE", "\u00e9", "\u65e5\u672c", "\u0000", "\r", "-", "+", ".", ":", ",",
];

function render(template: string, rand: Rand, tag: string): Buffer {
  const parts: Buffer[] = [Buffer.from(`${tag} `)];
  const re = /\{(L8|L\+|L):([^}]*)\}/g;
  let last = 0;
  for (let m = re.exec(template); m; m = re.exec(template)) {
    parts.push(Buffer.from(template.slice(last, m.index), "utf8"));
    const content = Buffer.from(m[2]!, "utf8");
    const prefix = m[1] === "L8" ? "~{" : "{";
    const plus = m[1] === "L+" || (m[1] === "L8" && rand() < 0.5) ? "+" : "";
    parts.push(Buffer.from(`${prefix}${content.length}${plus}}\r\n`), content);
    last = m.index + m[0].length;
  }
  parts.push(Buffer.from(`${template.slice(last)}\r\n`, "utf8"));
  return Buffer.concat(parts);
}

function randomTag(rand: Rand): string {
  const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.";
  let tag = "";
  const n = 1 + int(rand, 6);
  for (let i = 0; i < n; i++) tag += pick(rand, chars.split(""));
  return tag;
}

function mutate(valid: Buffer, rand: Rand): GeneratedCommand {
  const kind = pick(rand, ["truncated", "duplicated", "oversized-literal", "lying-literal", "unbalanced", "flipped", "injected", "long"] as const);
  const at = int(rand, valid.length);
  switch (kind) {
    case "truncated":
      return { kind, bytes: valid.subarray(0, at) };
    case "duplicated": {
      const end = at + int(rand, valid.length - at + 1);
      return { kind, bytes: Buffer.concat([valid.subarray(0, end), valid.subarray(at, end), valid.subarray(end)]) };
    }
    case "oversized-literal": {
      const size = pick(rand, [5000, 70000, 1 << 24, 4294967295]);
      // a non-synchronising one ends the connection: keep those rare so a stream goes on long enough
      const plus = rand() < 0.2 ? "+" : "";
      return { kind, bytes: Buffer.concat([valid.subarray(0, valid.length - 2), Buffer.from(` {${size}${plus}}\r\n`), Buffer.alloc(int(rand, 3000), 0x41), Buffer.from("\r\n")]) };
    }
    case "lying-literal": {
      const text = valid.toString("latin1").replace(/\{(\d+)(\+?)\}/, (_, n: string, p: string) => `{${Math.max(0, Number(n) + int(rand, 7) - 3)}${p}}`);
      return { kind, bytes: Buffer.from(text, "latin1") };
    }
    case "unbalanced": {
      const paren = pick(rand, ["(", ")", "((", "))", "[", "]"]);
      return { kind, bytes: Buffer.concat([valid.subarray(0, at), Buffer.from(paren), valid.subarray(at)]) };
    }
    case "flipped": {
      const copy = Buffer.from(valid);
      for (let i = 0; i < 1 + int(rand, 4); i++) copy[int(rand, copy.length)] = int(rand, 256);
      return { kind, bytes: copy };
    }
    case "injected": {
      const junk = pick(rand, ["\r\n", "\n", "\u0000", "\r", '"', "\\", "{", "}", "\u00ff\u00fe"]);
      return { kind, bytes: Buffer.concat([valid.subarray(0, at), Buffer.from(junk, "latin1"), valid.subarray(at)]) };
    }
    case "long":
      return { kind, bytes: Buffer.concat([valid.subarray(0, at), Buffer.alloc(2000 + int(rand, 70000), pick(rand, [0x41, 0x20, 0x28])), valid.subarray(at)]) };
  }
}

/** `n` inputs from `seed`: a third valid, a third mutated, the rest token soups and random bytes. */
export function generateCommands(seed: number, n: number): GeneratedCommand[] {
  const rand = prng(seed);
  const out: GeneratedCommand[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rand();
    const tag = randomTag(rand);
    if (roll < 0.34) {
      out.push({ kind: "valid", bytes: render(pick(rand, VALID), rand, tag) });
    } else if (roll < 0.67) {
      out.push(mutate(render(pick(rand, VALID), rand, tag), rand));
    } else if (roll < 0.87) {
      const words: string[] = [];
      for (let j = 0; j < 1 + int(rand, 20); j++) words.push(pick(rand, TOKENS));
      out.push({ kind: "soup", bytes: Buffer.from(`${tag} ${words.join(rand() < 0.8 ? " " : "")}\r\n`, "utf8") });
    } else {
      const bytes = Buffer.alloc(1 + int(rand, 300));
      for (let j = 0; j < bytes.length; j++) bytes[j] = int(rand, 256);
      out.push({ kind: "bytes", bytes: rand() < 0.7 ? Buffer.concat([bytes, Buffer.from("\r\n")]) : bytes });
    }
  }
  return out;
}

/** Names of the commands in types.ts (what a parsed request may carry). */
export const COMMAND_NAMES = new Set([
  "CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "LOGIN", "AUTHENTICATE", "ENABLE", "ID", "NAMESPACE", "SELECT", "EXAMINE", "CREATE", "DELETE", "RENAME",
  "SUBSCRIBE", "UNSUBSCRIBE", "LIST", "LSUB", "STATUS", "APPEND", "CHECK", "CLOSE", "UNSELECT", "EXPUNGE", "SEARCH", "FETCH", "STORE", "COPY", "MOVE", "IDLE",
  "GETQUOTA", "GETQUOTAROOT", "SETQUOTA",
]);
