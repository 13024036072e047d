import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, testMessage, type ImapTestServer } from "./harness.ts";

/** Commands of every kind the session and its ops handle; mutated below. No literals, no IDLE/AUTHENTICATE/STARTTLS/LOGOUT. */
const CORPUS = [
  "NOOP",
  "CAPABILITY",
  "CHECK",
  'LIST "" "*"',
  'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN STATUS (MESSAGES UNSEEN SIZE))',
  'LIST "" ("INBOX" "Sent" "fuzz/*") RETURN (SPECIAL-USE)',
  'LSUB "" "*"',
  "STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT APPENDLIMIT)",
  "FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)",
  "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])",
  "UID FETCH 1:* (ENVELOPE BODYSTRUCTURE)",
  "FETCH 1:2 BODY.PEEK[1]<0.10>",
  "FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[1])",
  "FETCH 1:* (FLAGS) (CHANGEDSINCE 1)",
  "SEARCH OR FROM carol SUBJECT hello",
  "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL",
  "SEARCH SINCE 1-Jan-2020 NOT DELETED LARGER 10",
  'SEARCH CHARSET UTF-8 SUBJECT "héllo" BODY "x"',
  "STORE 1 +FLAGS (\\Flagged)",
  "UID STORE 1:* -FLAGS.SILENT (\\Flagged $Fuzz)",
  "STORE 1:* FLAGS (\\Seen) (UNCHANGEDSINCE 5)",
  "COPY 1 Archive",
  "UID COPY 1:* Trash",
  "UID MOVE 100000 Junk",
  "CREATE fuzz/a",
  'CREATE "fuzz/b" (USE (\\Drafts))',
  "RENAME fuzz/a fuzz/c",
  "DELETE fuzz/c",
  "SUBSCRIBE Junk",
  "UNSUBSCRIBE fuzz/b",
  "GETQUOTAROOT INBOX",
  'GETQUOTA ""',
  "ENABLE CONDSTORE",
  'ID ("name" "fuzz" "version" "1")',
  "NAMESPACE",
  "EXAMINE INBOX",
  "SELECT INBOX (CONDSTORE)",
  "UNSELECT",
  "EXPUNGE",
  "UID EXPUNGE 99999",
];

const INSERTS = ["(", ")", '"', "\\", "*", "%", "[", "]", "<", ">", ".", ":", ",", " ", "0", "1", "4294967296", "-1", "NIL", "é", "\u0000", "\u00ff", "$", "+", "~", "BODY[", "(((((", "))))"];

/** A small deterministic generator, so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

function mutate(line: string, rand: () => number): string {
  let out = line;
  const ops = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < ops; i++) {
    const at = Math.floor(rand() * (out.length + 1));
    switch (Math.floor(rand() * 6)) {
      case 0: // delete a range
        out = out.slice(0, at) + out.slice(Math.min(out.length, at + 1 + Math.floor(rand() * 6)));
        break;
      case 1: // insert a token
        out = out.slice(0, at) + INSERTS[Math.floor(rand() * INSERTS.length)]! + out.slice(at);
        break;
      case 2: // truncate
        out = out.slice(0, at);
        break;
      case 3: {
        // duplicate a word
        const words = out.split(" ");
        const w = Math.floor(rand() * words.length);
        words.splice(w, 0, words[w]!);
        out = words.join(" ");
        break;
      }
      case 4: // random printable bytes
        out = out.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + Math.floor(rand() * 8) }, () => 32 + Math.floor(rand() * 95))) + out.slice(at);
        break;
      default: // another command's tail
        out = out.slice(0, at) + CORPUS[Math.floor(rand() * CORPUS.length)]!.slice(Math.floor(rand() * 10));
    }
  }
  // One command a line, no literals, nothing that changes the connection's mode.
  out = out.replace(/[\r\n{}]/g, " ");
  if (/IDLE|AUTHENTICATE|STARTTLS|LOGOUT|DONE|APPEND/i.test(out)) return "NOOP";
  return out;
}

describe("IMAP session under generated input", () => {
  let server: ImapTestServer;
  before(async () => {
    server = await startImapServer({ env: { POSTLINE_IMAP_MAX_BAD_COMMANDS: "1000000" } });
  });
  after(async () => {
    await server?.close();
  });

  test("random and mutated commands: every tagged command is answered, in order, and the server stays up", async () => {
    const seed = Number(process.env.IMAP_FUZZ_SEED ?? Date.now() % 100000);
    const rand = rng(seed);
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.loginTls(server.alice);
      for (let i = 0; i < 3; i++) {
        const m = testMessage(`fuzz ${i}`, "hello fuzz body\r\n");
        client.write(`ap${i} APPEND INBOX {${Buffer.byteLength(m)}+}\r\n${m}\r\n`);
        assert.match((await client.readTagged(`ap${i}`)).tagged, /OK/);
      }
      const counts = { OK: 0, NO: 0, BAD: 0 };
      let n = 0;
      for (let batch = 0; batch < 20; batch++) {
        const tags: string[] = [`s${batch}`];
        let text = `s${batch} SELECT INBOX\r\n`;
        for (let i = 0; i < 40; i++) {
          const tag = `f${++n}`;
          tags.push(tag);
          const base = CORPUS[Math.floor(rand() * CORPUS.length)]!;
          text += `${tag} ${rand() < 0.8 ? mutate(base, rand) : base}\r\n`;
        }
        // Untagged junk between commands, answered with `* BAD` only.
        text += "\u0000\u00ff garbage without a tag\r\n";
        client.write(Buffer.from(text, "utf8"));
        for (const tag of tags) {
          const r = await client.readTagged(tag, 10_000).catch((err: Error) => {
            throw new Error(`seed ${seed}: ${tag} not answered: ${err.message}`);
          });
          const status = r.tagged.split(" ")[1] as keyof typeof counts;
          assert.ok(status in counts, `seed ${seed}: ${r.tagged}`);
          counts[status]++;
        }
      }
      assert.ok(counts.BAD > 50 && counts.OK > 50, JSON.stringify(counts));
      assert.match((await client.command("NOOP")).tagged, /OK/);
    } finally {
      client.close();
    }
    // The server still serves new sessions.
    const fresh = await rawClient(server.ports.imap);
    assert.match(fresh.greeting, /^\* OK/);
    assert.match((await fresh.client.command("CAPABILITY")).tagged, /OK/);
    fresh.client.close();
  });
});
