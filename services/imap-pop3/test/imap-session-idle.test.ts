import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ImapFlow } from "imapflow";
import { rawClient, startImapServer, testMessage, type ImapInstance, type ImapTestServer, type RawImap } from "./harness.ts";

async function appendRaw(client: RawImap, mailbox: string, message: string): Promise<string> {
  client.write(`ap APPEND ${mailbox} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
  return (await client.readTagged("ap")).tagged;
}

/** Reads until a line matches, or fails after `ms`. */
async function waitForLine(client: RawImap, pattern: RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) throw new Error(`no line matching ${pattern} within ${ms} ms`);
    const line = await client.readLine(left);
    if (line === null) throw new Error("connection closed");
    if (pattern.test(line)) return line;
  }
}

function flow(port: number, account: { address: string; password: string }): ImapFlow {
  return new ImapFlow({
    host: "127.0.0.1",
    port,
    secure: false,
    doSTARTTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: account.address, pass: account.password },
    logger: false,
  });
}

describe("IMAP IDLE and change notification", () => {
  let server: ImapTestServer;
  let other: ImapInstance;
  before(async () => {
    server = await startImapServer();
    other = await server.startAnother();
  });
  after(async () => {
    await server?.close();
  });

  test("IDLE is woken by an APPEND from another session on the same process", async () => {
    const { client: idler } = await rawClient(server.ports.imap);
    const { client: writer } = await rawClient(server.ports.imap);
    try {
      await idler.loginTls(server.alice);
      await writer.loginTls(server.alice);
      const sel = await idler.command("SELECT INBOX");
      const exists = Number(/\* (\d+) EXISTS/.exec(sel.untagged.join("\n"))![1]);
      idler.write("i1 IDLE\r\n");
      assert.equal(await idler.readLine(), "+ idling");
      const started = Date.now();
      assert.match(await appendRaw(writer, "INBOX", testMessage("wake up")), /OK \[APPENDUID/);
      assert.equal(await waitForLine(idler, /EXISTS$/, 1000), `* ${exists + 1} EXISTS`);
      assert.ok(Date.now() - started < 1000);
      idler.write("DONE\r\n");
      assert.match((await idler.readTagged("i1")).tagged, /^i1 OK/);
      // The view is up to date: nothing owed after DONE.
      const noop = await idler.command("NOOP");
      assert.deepEqual(noop.untagged, []);
    } finally {
      idler.close();
      writer.close();
    }
  });

  test("an APPEND on one imap-pop3 process reaches an IDLE session on another within a second", async () => {
    const { client: idler } = await rawClient(other.ports.imap);
    const { client: writer } = await rawClient(server.ports.imap);
    try {
      await idler.loginTls(server.bob);
      await writer.loginTls(server.bob);
      const sel = await idler.command("SELECT INBOX");
      const exists = Number(/\* (\d+) EXISTS/.exec(sel.untagged.join("\n"))![1]);
      idler.write("i2 IDLE\r\n");
      assert.equal(await idler.readLine(), "+ idling");
      // Let the other process's consumer settle on its partitions first.
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      assert.match(await appendRaw(writer, "INBOX", testMessage("across processes")), /OK/);
      assert.equal(await waitForLine(idler, /EXISTS$/, 1000), `* ${exists + 1} EXISTS`);
      assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
      idler.write("DONE\r\n");
      assert.match((await idler.readTagged("i2")).tagged, /OK/);
    } finally {
      idler.close();
      writer.close();
    }
  });

  test("IDLE without DONE gets BAD for another line; server stop sends BYE to idle sessions", async () => {
    const extra = await server.startAnother();
    const { client } = await rawClient(extra.ports.imap);
    try {
      await client.loginTls(server.alice);
      client.write("i3 IDLE\r\n");
      assert.equal(await client.readLine(), "+ idling");
      client.write("NOT DONE\r\n");
      assert.match((await client.readTagged("i3")).tagged, /^i3 BAD/);
      await client.command("SELECT INBOX");
      client.write("i4 IDLE\r\n");
      assert.equal(await client.readLine(), "+ idling");
      await extra.stop();
      assert.match((await client.readLine()) ?? "", /^\* BYE/);
      assert.equal(await client.readLine(), null);
    } finally {
      client.close();
    }
  });

  test("imapflow over STARTTLS: list, append, status, fetch, idle", async () => {
    const c = flow(server.ports.imap, server.alice);
    const watcher = flow(other.ports.imap, server.alice);
    await c.connect();
    await watcher.connect();
    try {
      const boxes = await c.list();
      const sent = boxes.find((b) => b.path === "Sent");
      assert.equal(sent?.specialUse, "\\Sent");
      await c.mailboxCreate("Flow/Sub");
      const raw = testMessage("via imapflow", "Body from imapflow.\r\n");
      const appended = await c.append("Flow/Sub", raw, ["\\Flagged"]);
      assert.ok(appended && appended.uid && appended.uid > 0);
      const status = await c.status("Flow/Sub", { messages: true, unseen: true, uidNext: true });
      assert.ok(status);
      assert.equal(status.messages, 1);
      assert.equal(status.unseen, 1);

      await watcher.mailboxOpen("Flow/Sub");
      const existsSeen = new Promise<number>((resolve) => watcher.on("exists", (e: { count: number }) => resolve(e.count)));
      const idling = watcher.idle();
      await new Promise((r) => setTimeout(r, 200));
      await c.append("Flow/Sub", testMessage("second via imapflow"));
      const count = await Promise.race([existsSeen, new Promise<number>((_, reject) => setTimeout(() => reject(new Error("no EXISTS within 2 s")), 2000))]);
      assert.equal(count, 2);
      // The next command ends the IDLE.
      const msg = await watcher.fetchOne(String(appended!.uid), { source: true, flags: true }, { uid: true });
      assert.ok(msg);
      assert.equal(msg.source?.toString(), raw);
      assert.ok(msg.flags?.has("\\Flagged"));
      await idling;
      await server.db.query("UPDATE accounts SET quota_bytes = 1048576 WHERE id = $1", [server.alice.id]);
      const quota = await c.getQuota("INBOX");
      assert.ok(quota && quota.storage, JSON.stringify(quota));
      assert.equal(quota.storage.limit, 1048576);
      assert.ok(((quota.storage as { usage?: number }).usage ?? 0) > 0);
    } finally {
      await c.logout();
      await watcher.logout();
    }
  });
});
