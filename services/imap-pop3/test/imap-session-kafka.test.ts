import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { rawClient, startImapServer, testMessage, type ImapInstance, type ImapTestServer, type RawImap } from "./harness.ts";

async function appendRaw(client: RawImap, mailbox: string, message: string): Promise<string> {
  client.write(`ap APPEND ${mailbox} {${Buffer.byteLength(message)}+}\r\n${message}\r\n`);
  return (await client.readTagged("ap")).tagged;
}

/** The next line matching `pattern` within `ms`, or null. */
async function lineWithin(client: RawImap, pattern: RegExp, ms: number): Promise<string | null> {
  const until = Date.now() + ms;
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return null;
    let line: string | null;
    try {
      line = await client.readLine(left);
    } catch {
      return null;
    }
    if (line === null) throw new Error("connection closed");
    if (pattern.test(line)) return line;
  }
}

describe("IMAP change notification across processes over Kafka", () => {
  let server: ImapTestServer;
  let other: ImapInstance;
  before(async () => {
    // The IDLE poll is long here, so only a notification can deliver the change in time.
    server = await startImapServer({ bus: "kafka", env: { POSTLINE_IMAP_IDLE_POLL_MS: "600000" } });
    other = await server.startAnother();
  });
  after(async () => {
    await server?.close();
  });

  test("APPEND on process A reaches an IDLE session on process B within a second", async () => {
    const { client: idler } = await rawClient(other.ports.imap);
    const { client: writer } = await rawClient(server.ports.imap);
    try {
      await idler.loginTls(server.alice);
      await writer.loginTls(server.alice);
      const sel = await idler.command("SELECT INBOX");
      let count = Number(/\* (\d+) EXISTS/.exec(sel.untagged.join("\n"))![1]);
      idler.write("i1 IDLE\r\n");
      assert.equal(await idler.readLine(), "+ idling");
      // A new consumer group joins Kafka in a few seconds: warm up until B hears about changes at all.
      let heard = false;
      for (let i = 0; i < 30 && !heard; i++) {
        assert.match(await appendRaw(writer, "INBOX", testMessage(`warm-up ${i}`)), /OK/);
        count++;
        heard = (await lineWithin(idler, /EXISTS$/, 1000)) !== null;
      }
      assert.ok(heard, "process B never heard of a change");
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        assert.match(await appendRaw(writer, "INBOX", testMessage(`timed ${i}`)), /OK/);
        count++;
        // Exactly this count: a late EXISTS for an earlier append would be smaller.
        const line = await lineWithin(idler, new RegExp(`^\\* ${count} EXISTS$`), 1000);
        assert.ok(line, `no EXISTS within 1 s (attempt ${i})`);
        assert.ok(Date.now() - started < 1000);
      }
      idler.write("DONE\r\n");
      assert.match((await idler.readTagged("i1")).tagged, /OK/);
    } finally {
      idler.close();
      writer.close();
    }
  });
});
