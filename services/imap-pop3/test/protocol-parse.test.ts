import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failure, parse } from "./protocol-helpers.ts";

const set = (...ranges: Array<[number | "*", number | "*"]>) => ({ kind: "set", ranges: ranges.map(([from, to]) => ({ from, to })) });

describe("IMAP command parsers", () => {
  it("parses the commands without arguments, case-insensitively", async () => {
    for (const name of ["CAPABILITY", "NOOP", "LOGOUT", "STARTTLS", "CHECK", "CLOSE", "UNSELECT", "NAMESPACE", "IDLE", "EXPUNGE"]) {
      assert.deepEqual(await parse(`a1 ${name.toLowerCase()}\r\n`), { name });
    }
    assert.match((await failure("a1 NOOP extra\r\n")).text, /unexpected data/);
  });

  it("answers an unknown command and a missing command", async () => {
    assert.deepEqual(await failure("x1 FROB 1 2\r\n"), { tag: "x1", text: "unknown command" });
    assert.equal((await failure("x2\r\n")).tag, "x2");
    assert.equal((await failure("+ NOOP\r\n")).tag, null);
    assert.match((await failure("a UID NOOP\r\n")).text, /unknown command/);
  });

  it("LOGIN with atoms, quoted strings with escapes, literals and UTF-8", async () => {
    assert.deepEqual(await parse("a LOGIN alice secret\r\n"), { name: "LOGIN", user: "alice", password: "secret" });
    assert.deepEqual(await parse('a LOGIN "al ice" "p\\"w\\\\d"\r\n'), { name: "LOGIN", user: "al ice", password: 'p"w\\d' });
    assert.deepEqual(await parse("a LOGIN {5}\r\nalice {6+}\r\nse cr\n\r\n"), { name: "LOGIN", user: "alice", password: "se cr\n" });
    assert.deepEqual(await parse('a LOGIN "jörg" "пароль"\r\n'), { name: "LOGIN", user: "jörg", password: "пароль" });
    assert.deepEqual(await parse("a LOGIN jörg пароль\r\n"), { name: "LOGIN", user: "jörg", password: "пароль" });
    assert.deepEqual(await parse(Buffer.from("a LOGIN caf\xe9 x\r\n", "latin1")), { name: "LOGIN", user: "café", password: "x" });
    assert.match((await failure('a LOGIN "x\\y" z\r\n')).text, /bad escape/);
    assert.match((await failure('a LOGIN "open z\r\n')).text, /unterminated/);
    assert.match((await failure("a LOGIN alice\r\n")).text, /expected a space/);
  });

  it("AUTHENTICATE with and without an initial response", async () => {
    assert.deepEqual(await parse("a AUTHENTICATE plain\r\n"), { name: "AUTHENTICATE", mechanism: "PLAIN" });
    assert.deepEqual(await parse("a AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==\r\n"), { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: "AGFsaWNlAHNlY3JldA==" });
    assert.deepEqual(await parse("a AUTHENTICATE PLAIN =\r\n"), { name: "AUTHENTICATE", mechanism: "PLAIN", initialResponse: "=" });
    assert.match((await failure("a AUTHENTICATE PLAIN ab=c\r\n")).text, /base64/);
  });

  it("ENABLE and ID", async () => {
    assert.deepEqual(await parse("a ENABLE condstore QRESYNC utf8=accept\r\n"), { name: "ENABLE", capabilities: ["CONDSTORE", "QRESYNC", "UTF8=ACCEPT"] });
    assert.deepEqual(await parse("a ID NIL\r\n"), { name: "ID", params: null });
    const id = await parse('a ID ("name" "Thunderbird" "version" NIL)\r\n');
    assert.deepEqual(id, { name: "ID", params: Object.assign(Object.create(null), { name: "Thunderbird", version: null }) });
    assert.match((await failure('a ID ("name")\r\n')).text, /expected a space/);
  });

  it("SELECT and EXAMINE with CONDSTORE and QRESYNC", async () => {
    assert.deepEqual(await parse("a SELECT INBOX\r\n"), { name: "SELECT", mailbox: "INBOX", condstore: false });
    assert.deepEqual(await parse('a EXAMINE "Sent Items" (CONDSTORE)\r\n'), { name: "EXAMINE", mailbox: "Sent Items", condstore: true });
    assert.deepEqual(await parse("a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n"), {
      name: "SELECT",
      mailbox: "INBOX",
      condstore: false,
      qresync: { uidValidity: 67890007, modseq: 20050715194045000, knownUids: set([41, 41], [43, 211], [214, 541]) },
    });
    assert.deepEqual(await parse("a SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976:29997)))\r\n"), {
      name: "SELECT",
      mailbox: "INBOX",
      condstore: false,
      qresync: {
        uidValidity: 67890007,
        modseq: 90060115194045000,
        knownUids: set([1, 29997]),
        seqMatch: { seqs: set([5000, 5000], [7500, 7500], [9000, 9000], [9990, 9999]), uids: set([15000, 15000], [22500, 22500], [27000, 27000], [29970, 29970], [29973, 29973], [29976, 29997]) },
      },
    });
    assert.deepEqual((await parse("a SELECT INBOX (QRESYNC (1 2 (1:2 3:4)))\r\n") as { qresync: unknown }).qresync, {
      uidValidity: 1,
      modseq: 2,
      seqMatch: { seqs: set([1, 2]), uids: set([3, 4]) },
    });
    assert.match((await failure("a SELECT INBOX (FOO)\r\n")).text, /unknown select parameter FOO/);
    assert.match((await failure("a SELECT INBOX (QRESYNC (0 1))\r\n")).text, /UIDVALIDITY/);
  });

  it("mailbox commands keep the raw wire name", async () => {
    assert.deepEqual(await parse("a CREATE &U,BTFw-/x\r\n"), { name: "CREATE", mailbox: "&U,BTFw-/x" });
    assert.deepEqual(await parse("a CREATE Drafts2 (USE (\\Drafts \\drafts \\Junk))\r\n"), { name: "CREATE", mailbox: "Drafts2", specialUse: ["\\Drafts", "\\Junk"] });
    assert.deepEqual(await parse("a DELETE foo]bar\r\n"), { name: "DELETE", mailbox: "foo]bar" });
    assert.deepEqual(await parse('a RENAME "a b" {3}\r\nc d\r\n'), { name: "RENAME", from: "a b", to: "c d" });
    assert.deepEqual(await parse("a SUBSCRIBE news\r\n"), { name: "SUBSCRIBE", mailbox: "news" });
    assert.deepEqual(await parse("a UNSUBSCRIBE news\r\n"), { name: "UNSUBSCRIBE", mailbox: "news" });
    assert.match((await failure("a DELETE (x)\r\n")).text, /expected a mailbox name/);
  });

  it("LIST basic and extended, LSUB", async () => {
    const none = { subscribed: false, children: false, specialUse: false };
    assert.deepEqual(await parse('a LIST "" *\r\n'), { name: "LIST", reference: "", patterns: ["*"], selection: [], returns: none });
    assert.deepEqual(await parse("a LIST ~/Mail/ %/x*\r\n"), { name: "LIST", reference: "~/Mail/", patterns: ["%/x*"], selection: [], returns: none });
    assert.deepEqual(await parse('a list (subscribed RECURSIVEMATCH) "" ("INBOX" Sent* %) RETURN (CHILDREN special-use STATUS (MESSAGES UNSEEN SIZE))\r\n'), {
      name: "LIST",
      reference: "",
      patterns: ["INBOX", "Sent*", "%"],
      selection: ["SUBSCRIBED", "RECURSIVEMATCH"],
      returns: { subscribed: false, children: true, specialUse: true, status: ["MESSAGES", "UNSEEN", "SIZE"] },
    });
    assert.deepEqual(await parse('a LIST () "" % RETURN (SUBSCRIBED)\r\n'), { name: "LIST", reference: "", patterns: ["%"], selection: [], returns: { ...none, subscribed: true } });
    assert.deepEqual(await parse('a LSUB "" news.*\r\n'), { name: "LSUB", reference: "", pattern: "news.*" });
    assert.deepEqual(await parse("a LIST \"\" Entwürfe/*\r\n"), { name: "LIST", reference: "", patterns: ["Entwürfe/*"], selection: [], returns: none });
    assert.match((await failure('a LIST (RECURSIVEMATCH) "" %\r\n')).text, /RECURSIVEMATCH/);
    assert.match((await failure('a LIST "" % RETURN (FOO)\r\n')).text, /unknown LIST return option FOO/);
  });

  it("STATUS", async () => {
    assert.deepEqual(await parse("a STATUS blurdybloop (UIDNEXT messages HIGHESTMODSEQ APPENDLIMIT)\r\n"), {
      name: "STATUS",
      mailbox: "blurdybloop",
      items: ["UIDNEXT", "MESSAGES", "HIGHESTMODSEQ", "APPENDLIMIT"],
    });
    assert.match((await failure("a STATUS x (FOO)\r\n")).text, /unknown status item FOO/);
    assert.match((await failure("a STATUS x ()\r\n")).text, /expected a status item/);
  });

  it("APPEND with flags, date-time, literal and literal8", async () => {
    const plain = await parse("a APPEND saved-messages (\\Seen $Junk) \"05-Jul-1994 02:37:05 -0700\" {11}\r\nHello\r\nBob\r\n");
    assert.equal(plain.name, "APPEND");
    if (plain.name !== "APPEND") return;
    assert.equal(plain.mailbox, "saved-messages");
    assert.deepEqual(plain.messages[0]!.flags, ["\\Seen", "$Junk"]);
    assert.equal(plain.messages[0]!.date!.toISOString(), "1994-07-05T09:37:05.000Z");
    assert.equal(plain.messages[0]!.content.toString(), "Hello\r\nBob\r\n".slice(0, 11));
    const binary = Buffer.concat([Buffer.from("a APPEND INBOX ~{4}\r\n"), Buffer.from([0, 1, 0xff, 0x0d]), Buffer.from("\r\n")]);
    const b = await parse(binary);
    assert.ok(b.name === "APPEND" && b.messages[0]!.content.equals(Buffer.from([0, 1, 0xff, 0x0d])));
    assert.ok(b.name === "APPEND" && b.messages[0]!.flags.length === 0 && b.messages[0]!.date === undefined);
    const dayWithSpace = await parse('a APPEND INBOX () " 5-Nov-2026 10:00:00 +0000" {1+}\r\nx\r\n');
    assert.ok(dayWithSpace.name === "APPEND" && dayWithSpace.messages[0]!.date!.toISOString() === "2026-11-05T10:00:00.000Z");
    assert.match((await failure("a APPEND INBOX \"31-Feb-2020 00:00:00 +0000\" {1}\r\nx\r\n")).text, /bad date-time/);
    assert.match((await failure("a APPEND INBOX (\\Recent) {1}\r\nx\r\n")).text, /Recent/);
    assert.match((await failure('a APPEND INBOX "hello"\r\n')).text, /bad date-time|literal/);
    assert.match((await failure("a APPEND INBOX {1}\r\nx {1}\r\ny\r\n")).text, /unexpected data/);
  });

  it("EXPUNGE and UID EXPUNGE", async () => {
    assert.deepEqual(await parse("a UID EXPUNGE 3000:3002,$\r\n").catch(() => null), null);
    assert.deepEqual(await parse("a uid expunge 3000:3002\r\n"), { name: "EXPUNGE", uids: set([3000, 3002]) });
    assert.deepEqual(await parse("a UID EXPUNGE $\r\n"), { name: "EXPUNGE", uids: { kind: "saved" } });
  });

  it("SEARCH: keys, groups, OR/NOT, dates, sizes, sets, MODSEQ, CHARSET and RETURN", async () => {
    assert.deepEqual(await parse("a SEARCH ALL\r\n"), { name: "SEARCH", uid: false, key: { kind: "all" } });
    assert.deepEqual(await parse('a UID SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"\r\n'), {
      name: "SEARCH",
      uid: true,
      key: {
        kind: "and",
        keys: [
          { kind: "flag", flag: "\\Flagged", set: true },
          { kind: "date", of: "internal", op: "since", date: "1994-02-01" },
          { kind: "not", key: { kind: "header", field: "FROM", value: "Smith" } },
        ],
      },
    });
    assert.deepEqual(await parse('a SEARCH OR (UNSEEN LARGER 100) (SENTBEFORE "31-Dec-2020" SMALLER 5) 2:4,*\r\n'), {
      name: "SEARCH",
      uid: false,
      key: {
        kind: "and",
        keys: [
          {
            kind: "or",
            left: { kind: "and", keys: [{ kind: "flag", flag: "\\Seen", set: false }, { kind: "size", op: "larger", octets: 100 }] },
            right: { kind: "and", keys: [{ kind: "date", of: "sent", op: "before", date: "2020-12-31" }, { kind: "size", op: "smaller", octets: 5 }] },
          },
          { kind: "seq", set: set([2, 4], ["*", "*"]) },
        ],
      },
    });
    assert.deepEqual(await parse("a SEARCH RETURN (MIN MAX COUNT SAVE) UID 1:* KEYWORD $Forwarded UNKEYWORD \\seen\r\n"), {
      name: "SEARCH",
      uid: false,
      returns: ["MIN", "MAX", "COUNT", "SAVE"],
      key: {
        kind: "and",
        keys: [
          { kind: "uid", set: set([1, "*"]) },
          { kind: "flag", flag: "$Forwarded", set: true },
          { kind: "flag", flag: "\\Seen", set: false },
        ],
      },
    });
    assert.deepEqual(await parse("a SEARCH RETURN () NEW\r\n"), { name: "SEARCH", uid: false, returns: [], key: { kind: "new" } });
    assert.deepEqual(await parse("a SEARCH OLD RECENT\r\n"), { name: "SEARCH", uid: false, key: { kind: "and", keys: [{ kind: "recent", set: false }, { kind: "recent", set: true }] } });
    assert.deepEqual(await parse('a SEARCH MODSEQ "/flags/\\\\draft" all 620162338\r\n'), { name: "SEARCH", uid: false, key: { kind: "modseq", modseq: 620162338 } });
    assert.deepEqual(await parse("a SEARCH MODSEQ 0\r\n"), { name: "SEARCH", uid: false, key: { kind: "modseq", modseq: 0 } });
    assert.deepEqual(await parse("a SEARCH CHARSET UTF-8 TEXT {4}\r\nсв\r\n"), { name: "SEARCH", uid: false, charset: "UTF-8", key: { kind: "text", value: "св" } });
    assert.deepEqual(await parse(Buffer.concat([Buffer.from('a SEARCH CHARSET ISO-8859-1 SUBJECT "'), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('"\r\n')])), {
      name: "SEARCH",
      uid: false,
      charset: "ISO-8859-1",
      key: { kind: "header", field: "SUBJECT", value: "café" },
    });
    assert.deepEqual(await parse('a SEARCH HEADER x-spam "" BODY x BCC y\r\n'), {
      name: "SEARCH",
      uid: false,
      key: { kind: "and", keys: [{ kind: "header", field: "X-SPAM", value: "" }, { kind: "body", value: "x" }, { kind: "header", field: "BCC", value: "y" }] },
    });
    assert.deepEqual(await parse("a SEARCH $\r\n"), { name: "SEARCH", uid: false, key: { kind: "seq", set: { kind: "saved" } } });
    assert.match((await failure("a SEARCH SINCE 32-Jan-2020\r\n")).text, /bad date/);
    assert.match((await failure("a SEARCH SINCE 2020-01-01\r\n")).text, /bad date/);
    assert.match((await failure("a SEARCH FOO\r\n")).text, /unknown search key FOO/);
    assert.match((await failure("a SEARCH (ALL\r\n")).text, /closing the search key group/);
    assert.match((await failure("a SEARCH CHARSET X-NOPE ALL\r\n")).text, /^\[BADCHARSET/);
    assert.match((await failure("a SEARCH RETURN (FOO) ALL\r\n")).text, /unknown search return option/);
    assert.match((await failure(`a SEARCH ${"NOT ".repeat(200)}ALL\r\n`)).text, /nested too deeply/);
  });

  it("FETCH: macros, sections, partials, BINARY, modifiers; UID FETCH adds UID", async () => {
    const base = { name: "FETCH", uid: false, set: set([1, 1]) };
    assert.deepEqual(await parse("a FETCH 1 ALL\r\n"), { ...base, attributes: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }, { kind: "ENVELOPE" }] });
    assert.deepEqual(await parse("a FETCH 1 fast\r\n"), { ...base, attributes: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }] });
    assert.deepEqual(await parse("a FETCH 1 FULL\r\n"), {
      ...base,
      attributes: [{ kind: "FLAGS" }, { kind: "INTERNALDATE" }, { kind: "RFC822.SIZE" }, { kind: "ENVELOPE" }, { kind: "BODY" }],
    });
    assert.deepEqual(await parse("a FETCH 1 body[]\r\n"), { ...base, attributes: [{ kind: "BODY[]", section: { part: [] }, peek: false }] });
    assert.deepEqual(await parse("a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n"), {
      ...base,
      set: set([2, 4]),
      attributes: [{ kind: "FLAGS" }, { kind: "BODY[]", section: { part: [], text: "HEADER.FIELDS", fields: ["DATE", "FROM"] }, peek: false }],
    });
    assert.deepEqual(await parse("a FETCH 1 (BODY.PEEK[1.2.MIME] BODY[3.TEXT]<10.20> BODY[HEADER.FIELDS.NOT (x-a \"x b\")] BODY[2] BODY[4.1.HEADER] RFC822 RFC822.HEADER RFC822.TEXT BODYSTRUCTURE BODY MODSEQ INTERNALDATE)\r\n"), {
      ...base,
      attributes: [
        { kind: "BODY[]", section: { part: [1, 2], text: "MIME" }, peek: true },
        { kind: "BODY[]", section: { part: [3], text: "TEXT" }, peek: false, partial: { offset: 10, length: 20 } },
        { kind: "BODY[]", section: { part: [], text: "HEADER.FIELDS.NOT", fields: ["X-A", "X B"] }, peek: false },
        { kind: "BODY[]", section: { part: [2] }, peek: false },
        { kind: "BODY[]", section: { part: [4, 1], text: "HEADER" }, peek: false },
        { kind: "RFC822" },
        { kind: "RFC822.HEADER" },
        { kind: "RFC822.TEXT" },
        { kind: "BODYSTRUCTURE" },
        { kind: "BODY" },
        { kind: "MODSEQ" },
        { kind: "INTERNALDATE" },
      ],
    });
    assert.deepEqual(await parse("a FETCH 1 (BINARY[1.2]<0.100> BINARY.PEEK[] BINARY.SIZE[3])\r\n"), {
      ...base,
      attributes: [
        { kind: "BINARY", part: [1, 2], peek: false, partial: { offset: 0, length: 100 } },
        { kind: "BINARY", part: [], peek: true },
        { kind: "BINARY.SIZE", part: [3] },
      ],
    });
    assert.deepEqual(await parse("a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"), {
      name: "FETCH",
      uid: true,
      set: set([1, "*"]),
      attributes: [{ kind: "UID" }, { kind: "FLAGS" }, { kind: "MODSEQ" }],
      changedSince: 12345,
      vanished: true,
    });
    assert.deepEqual(await parse("a UID FETCH $ (UID FLAGS)\r\n"), { name: "FETCH", uid: true, set: { kind: "saved" }, attributes: [{ kind: "UID" }, { kind: "FLAGS" }] });
    assert.match((await failure("a FETCH 1:* (FLAGS) (VANISHED CHANGEDSINCE 1)\r\n")).text, /VANISHED needs UID FETCH/);
    assert.match((await failure("a UID FETCH 1:* (FLAGS) (VANISHED)\r\n")).text, /VANISHED needs UID FETCH and CHANGEDSINCE/);
    assert.match((await failure("a FETCH 1 BODY[MIME]\r\n")).text, /MIME needs a section part/);
    assert.match((await failure("a FETCH 1 BODY[1.]\r\n")).text, /section text/);
    assert.match((await failure("a FETCH 1 BODY[1.2.FOO]\r\n")).text, /unknown section text FOO/);
    assert.match((await failure("a FETCH 1 BODY[]<5>\r\n")).text, /"\." in the partial/);
    assert.match((await failure("a FETCH 1 BODY.PEEK\r\n")).text, /expected "\["/);
    assert.match((await failure("a FETCH 0 FLAGS\r\n")).text, /sequence number/);
    assert.match((await failure("a FETCH 1:4294967296 FLAGS\r\n")).text, /too large/);
    assert.match((await failure("a FETCH 1 (FLAGS\r\n")).text, /closing the fetch attributes/);
    assert.match((await failure("a FETCH 1 FOO\r\n")).text, /unknown fetch attribute FOO/);
  });

  it("STORE with +/-FLAGS, .SILENT, parenthesised or bare flags, UNCHANGEDSINCE", async () => {
    assert.deepEqual(await parse("a STORE 2:4 +FLAGS (\\Deleted)\r\n"), { name: "STORE", uid: false, set: set([2, 4]), action: "add", silent: false, flags: ["\\Deleted"] });
    assert.deepEqual(await parse("a UID STORE 1,3 -flags.silent \\seen $Junk\r\n"), { name: "STORE", uid: true, set: set([1, 1], [3, 3]), action: "remove", silent: true, flags: ["\\Seen", "$Junk"] });
    assert.deepEqual(await parse("a STORE * (UNCHANGEDSINCE 320162338) FLAGS ()\r\n"), {
      name: "STORE",
      uid: false,
      set: set(["*", "*"]),
      action: "set",
      silent: false,
      flags: [],
      unchangedSince: 320162338,
    });
    assert.match((await failure("a STORE 1 FLAGZ (\\Seen)\r\n")).text, /unknown store item/);
    assert.match((await failure("a STORE 1 +FLAGS (\\Recent)\r\n")).text, /Recent/);
  });

  it("COPY and MOVE", async () => {
    assert.deepEqual(await parse("a COPY 2:4 MEETING\r\n"), { name: "COPY", uid: false, set: set([2, 4]), mailbox: "MEETING" });
    assert.deepEqual(await parse('a UID MOVE 42:69 "Old Mail"\r\n'), { name: "MOVE", uid: true, set: set([42, 69]), mailbox: "Old Mail" });
    assert.match((await failure("a MOVE x y\r\n")).text, /sequence number/);
  });

  it("GETQUOTA, GETQUOTAROOT and SETQUOTA", async () => {
    assert.deepEqual(await parse('a GETQUOTA ""\r\n'), { name: "GETQUOTA", root: "" });
    assert.deepEqual(await parse("a GETQUOTAROOT INBOX\r\n"), { name: "GETQUOTAROOT", mailbox: "INBOX" });
    assert.deepEqual(await parse('a SETQUOTA "" (storage 512 MESSAGE 1000)\r\n'), { name: "SETQUOTA", root: "", limits: [{ resource: "STORAGE", limit: 512 }, { resource: "MESSAGE", limit: 1000 }] });
    assert.deepEqual(await parse("a SETQUOTA x ()\r\n"), { name: "SETQUOTA", root: "x", limits: [] });
  });
});
