/**
 * The session's output path over TLS: each command's output is gathered and written at its end
 * (pipelined commands still answered whole and in order), changes by other sessions still reach
 * the client at its next command, and a body whose blob is missing fails cleanly.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, testMessage, type ImapTestServer, type RawImap } from "./harness.ts";

async function appendRaw(client: RawImap, mailbox: string, message: string): Promise<number> {
  client.write(`ap APPEND ${mailbox} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
  const r = await client.readTagged("ap");
  const m = /APPENDUID \d+ (\d+)/.exec(r.tagged);
  assert.ok(m, r.tagged);
  return Number(m[1]);
}

describe("IMAP session output", () => {
  let server: ImapTestServer;
  before(async () => {
    server = await startImapServer();
  });
  after(async () => {
    await server.close();
  });

  test("pipelined body fetches, NOOP and LOGOUT: every response whole and in order, then the close", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.loginTls(server.alice);
      const message = testMessage("pipelined", `${randomBytes(30_000).toString("hex")}\r\n`);
      const uid = await appendRaw(client, "Drafts", message);
      assert.match((await client.command("SELECT Drafts")).tagged, /OK/);
      // b1 reads the metadata from the store, b2 from the process's cache, b2f with FLAGS from the store again.
      client.write(`b1 UID FETCH ${uid} BODY.PEEK[]\r\nb2 UID FETCH ${uid} BODY.PEEK[]\r\nb2f UID FETCH ${uid} (BODY.PEEK[] FLAGS)\r\nb3 NOOP\r\nb4 LOGOUT\r\n`);
      for (const tag of ["b1", "b2", "b2f"]) {
        const r = await client.readTagged(tag);
        assert.match(r.tagged, new RegExp(`^${tag} OK`));
        assert.equal(r.untagged.length, 1);
        assert.ok(r.untagged[0]!.includes(`{${Buffer.byteLength(message)}}\r\n${message}`), `${tag}: the whole message`);
      }
      assert.match((await client.readTagged("b3")).tagged, /^b3 OK/);
      const logout = await client.readTagged("b4");
      assert.match(logout.untagged.join("\n"), /^\* BYE/);
      assert.match(logout.tagged, /^b4 OK/);
      assert.equal(await client.readLine(), null);
    } finally {
      client.close();
    }
  });

  test("another session's changes reach the client at its next FETCH", async () => {
    const a = (await rawClient(server.ports.imap)).client;
    const b = (await rawClient(server.ports.imap)).client;
    try {
      await a.loginTls(server.alice);
      await b.loginTls(server.alice);
      const uid = await appendRaw(a, "Archive", testMessage("shared", "x\r\n"));
      assert.match((await a.command("SELECT Archive")).tagged, /OK/);
      assert.match((await b.command("SELECT Archive")).tagged, /OK/);
      assert.match((await a.command(`UID FETCH ${uid} BODY.PEEK[]`)).tagged, /OK/);
      assert.match((await b.command(`UID STORE ${uid} +FLAGS.SILENT (\\Flagged)`)).tagged, /OK/);
      const newUid = await appendRaw(b, "Archive", testMessage("second", "y\r\n"));
      const r = await a.command(`UID FETCH ${uid} BODY.PEEK[HEADER.FIELDS (SUBJECT)]`);
      assert.match(r.tagged, /OK/);
      assert.ok(r.untagged.some((l) => l === `* 1 FETCH (UID ${uid} FLAGS (\\Flagged))`), JSON.stringify(r.untagged));
      assert.ok(r.untagged.includes("* 2 EXISTS"), JSON.stringify(r.untagged));
      assert.ok(newUid > uid);
    } finally {
      a.close();
      b.close();
    }
  });

  test("a body whose blob is missing: NO, no literal left hanging, the session goes on", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      await client.loginTls(server.alice);
      const uid = await appendRaw(client, "Junk", testMessage("lost", `${randomBytes(100).toString("hex")}\r\n`));
      assert.match((await client.command("SELECT Junk")).tagged, /OK/);
      const r = await server.db.query<{ blob_hash: string }>(
        "SELECT m.blob_hash FROM messages m JOIN mailboxes mb ON mb.id = m.mailbox_id WHERE mb.account_id = $1 AND mb.name = 'Junk' AND m.uid = $2",
        [server.alice.id, uid],
      );
      await server.blobs.delete(r.rows[0]!.blob_hash);
      const fetch = await client.command(`UID FETCH ${uid} BODY.PEEK[]`);
      assert.match(fetch.tagged, /NO \[SERVERBUG\]/);
      assert.deepEqual(fetch.untagged, []);
      assert.match((await client.command("NOOP")).tagged, /OK/);
    } finally {
      client.close();
    }
  });
});
