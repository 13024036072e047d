import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, testMessage, type ImapTestServer } from "./harness.ts";

describe("IMAP session limits and settings", () => {
  let server: ImapTestServer;
  before(async () => {
    server = await startImapServer({
      env: {
        POSTLINE_IMAP_PREAUTH_TIMEOUT_MS: "400",
        POSTLINE_IMAP_MAX_CONNECTIONS_PER_IP: "3",
        POSTLINE_IMAP_APPEND_LIMIT: "2000",
        POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true",
      },
    });
  });
  after(async () => {
    await server?.close();
  });

  test("plaintext authentication allowed on loopback by the setting: AUTH=PLAIN, no LOGINDISABLED", async () => {
    const { client, greeting } = await rawClient(server.ports.imap);
    try {
      assert.match(greeting, /AUTH=PLAIN/);
      assert.doesNotMatch(greeting, /LOGINDISABLED/);
      assert.match(greeting, /STARTTLS/);
      assert.match((await client.command(`LOGIN ${server.alice.address} "${server.alice.password}"`)).tagged, /OK/);
      assert.match((await client.command("CAPABILITY")).untagged[0]!, /APPENDLIMIT=2000/);
    } finally {
      client.close();
    }
  });

  test("an unauthenticated session that says nothing is closed after the pre-auth timeout", async () => {
    const { client } = await rawClient(server.ports.imap);
    const started = Date.now();
    assert.match((await client.readLine(3000)) ?? "", /^\* BYE .*idle/i);
    assert.equal(await client.readLine(3000), null);
    assert.ok(Date.now() - started < 2000);
  });

  test("connections per address are limited", async () => {
    const open = await Promise.all([rawClient(server.ports.imap), rawClient(server.ports.imap), rawClient(server.ports.imap)]);
    try {
      for (const o of open) assert.match(o.greeting, /^\* OK/);
      const { client, greeting } = await rawClient(server.ports.imap);
      assert.match(greeting, /^\* BYE Too many connections/);
      assert.equal(await client.readLine(), null);
    } finally {
      for (const o of open) o.client.close();
    }
    // Freed again once they are gone.
    await new Promise((r) => setTimeout(r, 200));
    const { client, greeting } = await rawClient(server.ports.imap);
    assert.match(greeting, /^\* OK/);
    client.close();
  });

  test("APPEND over APPENDLIMIT is refused and the session goes on", async () => {
    const { client } = await rawClient(server.ports.imap);
    try {
      assert.match((await client.command(`LOGIN ${server.alice.address} "${server.alice.password}"`)).tagged, /OK/);
      client.write("big APPEND INBOX {5000}\r\n");
      const reply = await client.readLine();
      assert.match(reply ?? "", /^big (NO \[TOOBIG\]|BAD)/);
      const small = testMessage("fits");
      client.write(`ok APPEND INBOX {${Buffer.byteLength(small)}+}\r\n${small}\r\n`);
      assert.match((await client.readTagged("ok")).tagged, /^ok OK \[APPENDUID/);
      assert.match((await client.command("NOOP")).tagged, /OK/);
    } finally {
      client.close();
    }
  });
});
