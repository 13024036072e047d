import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, testMessage, type ImapTestServer, type RawImap } from "./harness.ts";

/** APPEND with a synchronising literal: waits for the continuation like a careful client. */
async function append(client: RawImap, mailbox: string, message: string, extra = ""): Promise<string> {
  const tag = `A${Math.random().toString(36).slice(2, 8)}`;
  client.write(`${tag} APPEND ${mailbox}${extra ? ` ${extra}` : ""} {${Buffer.byteLength(message)}}\r\n`);
  const cont = await client.readLine();
  if (!cont?.startsWith("+")) return cont ?? "closed";
  client.write(`${message}\r\n`);
  return (await client.readTagged(tag)).tagged;
}

/** Mailbox names of LIST responses (quoted, atom or literal). */
const listNames = (lines: string[]) =>
  lines.filter((l) => l.startsWith("* LIST")).map((l) => /"\/" (?:\{\d+\}\r\n)?(.*)$/s.exec(l)![1]!.replace(/^"|"$/g, ""));

describe("IMAP mailboxes", () => {
  let server: ImapTestServer;
  let alice: RawImap;
  let bob: RawImap;
  before(async () => {
    server = await startImapServer();
    alice = (await rawClient(server.ports.imap)).client;
    assert.match((await alice.loginTls(server.alice)).tagged, /OK/);
    bob = (await rawClient(server.ports.imap)).client;
    assert.match((await bob.loginTls(server.bob)).tagged, /OK/);
  });
  after(async () => {
    alice?.close();
    bob?.close();
    await server?.close();
  });

  test("LIST: default mailboxes with special-use and children attributes, delimiter, wildcards", async () => {
    const all = await alice.command('LIST "" "*"');
    assert.match(all.tagged, /OK/);
    assert.deepEqual(listNames(all.untagged), ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]);
    assert.ok(all.untagged.includes('* LIST (\\HasNoChildren \\Sent) "/" Sent'), JSON.stringify(all.untagged));
    assert.ok(all.untagged.includes('* LIST (\\HasNoChildren) "/" INBOX'));
    assert.deepEqual((await alice.command('LIST "" ""')).untagged, ['* LIST (\\Noselect) "/" ""']);
    assert.deepEqual(listNames((await alice.command('LIST "" "inbox"')).untagged), ["INBOX"]);
    const su = await alice.command('LIST (SPECIAL-USE) "" "*"');
    assert.deepEqual(listNames(su.untagged), ["Archive", "Drafts", "Junk", "Sent", "Trash"]);
    const ret = await alice.command('LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)');
    assert.ok(ret.untagged.includes('* LIST (\\HasNoChildren \\Subscribed \\Trash) "/" Trash'), JSON.stringify(ret.untagged));
  });

  test("CREATE makes parents; LIST %, CHILDREN, RENAME moves children, DELETE refuses a parent", async () => {
    assert.match((await alice.command("CREATE Projects/2026/Q1")).tagged, /OK/);
    assert.match((await alice.command("CREATE Projects/2026/Q1")).tagged, /NO \[ALREADYEXISTS\]/);
    assert.match((await alice.command("CREATE inbox")).tagged, /NO \[ALREADYEXISTS\]/);
    assert.match((await alice.command('CREATE "Bad*Name"')).tagged, /NO/);
    assert.match((await alice.command('CREATE "Lists" (USE (\\Flagged))')).tagged, /OK/);
    assert.match((await alice.command('CREATE "Odd" (USE (\\Important))')).tagged, /NO \[USEATTR\]/);
    const top = await alice.command('LIST "" "%"');
    assert.ok(top.untagged.includes('* LIST (\\HasChildren) "/" Projects'), JSON.stringify(top.untagged));
    assert.ok(top.untagged.includes('* LIST (\\HasNoChildren \\Flagged) "/" Lists'));
    assert.deepEqual(listNames((await alice.command('LIST "Projects/" "%"')).untagged), ["Projects/2026"]);
    assert.deepEqual(listNames((await alice.command('LIST "" "Projects/*"')).untagged), ["Projects/2026", "Projects/2026/Q1"]);

    assert.match((await alice.command("DELETE Projects")).tagged, /NO \[HASCHILDREN\]/);
    assert.match((await alice.command("RENAME Projects Work/Projects")).tagged, /OK/);
    assert.deepEqual(listNames((await alice.command('LIST "" "*"')).untagged).filter((n) => n.startsWith("Work") || n.startsWith("Projects")), [
      "Work",
      "Work/Projects",
      "Work/Projects/2026",
      "Work/Projects/2026/Q1",
    ]);
    assert.match((await alice.command("RENAME Work Work/Inside")).tagged, /NO/);
    assert.match((await alice.command("RENAME Nope Other")).tagged, /NO \[NONEXISTENT\]/);
    assert.match((await alice.command("RENAME Lists Sent")).tagged, /NO \[ALREADYEXISTS\]/);
    for (const name of ["Work/Projects/2026/Q1", "Work/Projects/2026", "Work/Projects", "Work"]) {
      assert.match((await alice.command(`DELETE ${name}`)).tagged, /OK/, name);
    }
    assert.match((await alice.command("DELETE Work")).tagged, /NO \[NONEXISTENT\]/);
    assert.match((await alice.command("DELETE INBOX")).tagged, /NO/);
  });

  test("SUBSCRIBE / UNSUBSCRIBE, LSUB and LIST (SUBSCRIBED)", async () => {
    assert.match((await alice.command("CREATE Feeds/News")).tagged, /OK/);
    assert.match((await alice.command("UNSUBSCRIBE Feeds")).tagged, /OK/);
    assert.match((await alice.command("UNSUBSCRIBE Junk")).tagged, /OK/);
    assert.match((await alice.command("SUBSCRIBE Missing")).tagged, /NO \[NONEXISTENT\]/);
    const sub = await alice.command('LIST (SUBSCRIBED) "" "*"');
    const names = listNames(sub.untagged);
    assert.ok(!names.includes("Junk") && !names.includes("Feeds") && names.includes("Feeds/News"), JSON.stringify(names));
    const rec = await alice.command('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"');
    assert.ok(rec.untagged.includes('* LIST (\\HasChildren) "/" Feeds ("CHILDINFO" ("SUBSCRIBED"))'), JSON.stringify(rec.untagged));
    const lsub = await alice.command('LSUB "" "%"');
    assert.ok(lsub.untagged.includes('* LSUB (\\Noselect) "/" Feeds'), JSON.stringify(lsub.untagged));
    assert.ok(!lsub.untagged.some((l) => l.endsWith(" Junk")));
    assert.match((await alice.command("SUBSCRIBE Junk")).tagged, /OK/);
  });

  test("APPEND then STATUS, LIST-STATUS, APPENDUID; errors TRYCREATE and TOOBIG", async () => {
    const before = await alice.command("STATUS Archive (UIDNEXT UIDVALIDITY)");
    const uidvalidity = Number(/UIDVALIDITY (\d+)/.exec(before.untagged[0]!)![1]);
    const uidnext = Number(/UIDNEXT (\d+)/.exec(before.untagged[0]!)![1]);
    const msg = testMessage("first");
    const r = await append(alice, "Archive", msg, '(\\Seen $Label) "28-Nov-2026 10:00:00 +0000"');
    assert.match(r, new RegExp(`OK \\[APPENDUID ${uidvalidity} ${uidnext}\\]`));
    assert.match(await append(alice, "Archive", testMessage("second")), /OK \[APPENDUID/);
    const st = await alice.command("STATUS Archive (MESSAGES UNSEEN DELETED SIZE UIDNEXT RECENT HIGHESTMODSEQ APPENDLIMIT)");
    const size = Buffer.byteLength(msg) + Buffer.byteLength(testMessage("second"));
    assert.match(st.untagged[0]!, new RegExp(`^\\* STATUS Archive \\(MESSAGES 2 UNSEEN 1 DELETED 0 SIZE (${size}|${size + 1}|${size - 1}) UIDNEXT ${uidnext + 2} RECENT 0 HIGHESTMODSEQ \\d+ APPENDLIMIT 52428800\\)$`));
    const ls = await alice.command('LIST "" "Archive" RETURN (STATUS (MESSAGES UNSEEN))');
    assert.deepEqual(ls.untagged, ['* LIST (\\HasNoChildren \\Archive) "/" Archive', "* STATUS Archive (MESSAGES 2 UNSEEN 1)"]);
    assert.match(await append(alice, "NoSuchBox", testMessage("x")), /NO \[TRYCREATE\]/);
    assert.match((await alice.command("STATUS NoSuchBox (MESSAGES)")).tagged, /NO \[NONEXISTENT\]/);

    // The message is stored as sent: SELECT and FETCH it back.
    const sel = await alice.command("EXAMINE Archive");
    assert.match(sel.tagged, /OK \[READ-ONLY\]/);
    const body = await alice.command("UID FETCH " + uidnext + " (FLAGS BODY.PEEK[])");
    assert.ok(body.untagged[0]!.includes(msg), JSON.stringify(body.untagged));
    assert.match(body.untagged[0]!, /FLAGS \((\\Seen \$Label|\$Label \\Seen)\)/);
    assert.match((await alice.command("UNSELECT")).tagged, /OK/);
  });

  test("QUOTA: GETQUOTAROOT and GETQUOTA in KiB; OVERQUOTA on APPEND", async () => {
    const none = await bob.command("GETQUOTAROOT INBOX");
    assert.deepEqual(none.untagged, ["* QUOTAROOT INBOX"]);
    await server.db.query("UPDATE accounts SET quota_bytes = 10240 WHERE id = $1", [server.bob.id]);
    const used = Number((await server.db.query<{ u: string }>("SELECT used_bytes AS u FROM accounts WHERE id = $1", [server.bob.id])).rows[0]!.u);
    const qr = await bob.command("GETQUOTAROOT INBOX");
    assert.deepEqual(qr.untagged, ['* QUOTAROOT INBOX ""', `* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} 10)`]);
    assert.deepEqual((await bob.command('GETQUOTA ""')).untagged, [`* QUOTA "" (STORAGE ${Math.ceil(used / 1024)} 10)`]);
    assert.match((await bob.command('SETQUOTA "" (STORAGE 100)')).tagged, /NO/);
    assert.match(await append(bob, "INBOX", testMessage("big", "x".repeat(12_000))), /NO \[OVERQUOTA\]/);
    assert.match(await append(bob, "INBOX", testMessage("small")), /OK/);
    await server.db.query("UPDATE accounts SET quota_bytes = NULL WHERE id = $1", [server.bob.id]);
  });

  test("isolation: bob cannot see, select, append to or delete alice's mailboxes", async () => {
    assert.match((await alice.command("CREATE Private")).tagged, /OK/);
    assert.match(await append(alice, "Private", testMessage("secret")), /OK/);
    assert.match((await bob.command("STATUS Private (MESSAGES)")).tagged, /NO/);
    assert.match((await bob.command("SELECT Private")).tagged, /NO/);
    assert.match(await append(bob, "Private", testMessage("intrusion")), /NO \[TRYCREATE\]/);
    assert.match((await bob.command("DELETE Private")).tagged, /NO/);
    assert.match((await bob.command("RENAME Private Mine")).tagged, /NO/);
    assert.ok(!listNames((await bob.command('LIST "" "*"')).untagged).includes("Private"));
    const st = await alice.command("STATUS Private (MESSAGES)");
    assert.match(st.untagged[0]!, /MESSAGES 1/);
    // Bob's INBOX is his own: alice's appends never show up there.
    const bobInbox = await bob.command("STATUS INBOX (MESSAGES)");
    assert.match(bobInbox.untagged[0]!, /MESSAGES 1\)/);
  });

  test("DELETE removes messages through the store: blob references and quota usage go back", async () => {
    assert.match((await alice.command("CREATE Scratch")).tagged, /OK/);
    const usage = async () => Number((await server.db.query<{ u: string }>("SELECT used_bytes AS u FROM accounts WHERE id = $1", [server.alice.id])).rows[0]!.u);
    const start = await usage();
    const m = testMessage("scratch unique " + Date.now());
    assert.match(await append(alice, "Scratch", m), /OK/);
    assert.equal(await usage(), start + Buffer.byteLength(m));
    assert.match((await alice.command("DELETE Scratch")).tagged, /OK/);
    assert.equal(await usage(), start);
    const refs = await server.db.query<{ n: string }>("SELECT count(*) AS n FROM blobs WHERE refcount = 0");
    assert.ok(Number(refs.rows[0]!.n) >= 1);
  });

  test("RENAME INBOX moves its messages to the new mailbox and leaves INBOX empty", async () => {
    assert.match(await append(bob, "INBOX", testMessage("to be moved")), /OK/);
    const count = Number(/MESSAGES (\d+)/.exec((await bob.command("STATUS INBOX (MESSAGES)")).untagged[0]!)![1]);
    assert.ok(count >= 2);
    assert.match((await bob.command("RENAME INBOX Old/Inbox")).tagged, /OK/);
    assert.match((await bob.command("STATUS INBOX (MESSAGES)")).untagged[0]!, /MESSAGES 0/);
    assert.match((await bob.command('STATUS "Old/Inbox" (MESSAGES)')).untagged[0]!, new RegExp(`MESSAGES ${count}`));
    assert.match(await append(bob, "INBOX", testMessage("new mail")), /OK/);
  });

  test("rev1 names are modified UTF-7; IMAP4rev2 names are UTF-8", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.loginTls(server.alice);
      assert.match((await client.command('CREATE "Entw&APw-rfe"')).tagged, /OK/);
      assert.deepEqual(listNames((await client.command('LIST "" "Entw*"')).untagged), ["Entw&APw-rfe"]);
      assert.match((await client.command('CREATE "Bad&-name&"')).tagged, /BAD/);
      await client.command("ENABLE IMAP4rev2");
      assert.deepEqual(listNames((await client.command('LIST "" "Entw*"')).untagged), ["Entwürfe"]);
    } finally {
      client.close();
    }
  });
});
