import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startImapInstallation, type ImapInstallation } from "./support/mail-clients.ts";
import { generateMessage } from "./support/messages.ts";
import { RawImap, type ImapResponse } from "./support/raw-imap.ts";

// Two imap-pop3 processes on the same PostgreSQL and Kafka: a message appended through one reaches
// an IDLE session on the other as `* n EXISTS` within one second, through `mailbox.changed` on the
// bus (the IDLE poll interval is set far above that, so only the bus can deliver it in time).
const USER = { address: "idle@example.test", password: "idle-password-12" };
const ROUNDS = 5;

let install: ImapInstallation;

before(async () => {
  install = await startImapInstallation({ accounts: [USER], processes: 2, env: { POSTLINE_IMAP_IDLE_POLL_MS: "600000" } });
});
after(async () => {
  await install?.stop();
});

async function session(index: number): Promise<RawImap> {
  const c = await RawImap.connect({ port: install.services[index]!.imaps, tls: "implicit", ca: install.cert.cert });
  const login = await c.command(`LOGIN ${USER.address} ${USER.password}`);
  assert.equal(login.status, "OK", login.text);
  return c;
}

const existsCount = (r: ImapResponse) => Number(/^\* (\d+) EXISTS$/i.exec(r.text)?.[1] ?? NaN);

test("APPEND on one process: the IDLE session on the other gets EXISTS within 1 s", async (t) => {
  const writer = await session(0);
  const idler = await session(1);
  try {
    const selected = await idler.command("SELECT INBOX");
    assert.equal(selected.status, "OK", selected.text);
    let exists: number = selected.untagged.map(existsCount).find((n) => !Number.isNaN(n)) ?? NaN;
    assert.equal(exists, 0);

    // The first append also shows that the second process's bus consumer is up (not timed).
    const idle0 = await idler.idle();
    const first = idler.waitFor((r) => existsCount(r) === 1, 30_000);
    assert.equal((await writer.command("APPEND INBOX ", generateMessage(1))).status, "OK");
    await first;
    assert.equal((await idle0.done()).status, "OK");
    exists = 1;

    const latencies: number[] = [];
    const fromSend: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const idle = await idler.idle();
      const want: number = exists + 1;
      const seen = idler.waitFor((r) => existsCount(r) === want, 5_000).then(() => Date.now());
      const sent = Date.now();
      const appended = await writer.command("APPEND INBOX ", generateMessage(i + 2));
      assert.equal(appended.status, "OK", appended.text);
      const committed = Date.now();
      const at = await seen;
      // The EXISTS may be read before the writer's OK is (both come to this process): 0 then.
      latencies.push(Math.max(0, at - committed));
      fromSend.push(at - sent);
      const done = await idle.done();
      assert.equal(done.status, "OK", done.text);
      exists = want;
    }
    t.diagnostic(`EXISTS after the APPEND's OK, ms: ${latencies.join(", ")}; after the APPEND was sent: ${fromSend.join(", ")}`);
    for (const ms of latencies) assert.ok(ms < 1000, `EXISTS after ${ms} ms (limit 1000): ${latencies.join(", ")}`);

    const check = await idler.command("UID SEARCH ALL");
    assert.equal(check.untagged.find((u) => u.text.startsWith("* SEARCH"))?.text.split(" ").length, 2 + ROUNDS + 1);
  } finally {
    await writer.logout();
    await idler.logout();
  }
});
