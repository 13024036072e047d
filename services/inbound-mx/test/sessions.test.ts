import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SmtpClient, message, sendMail } from "./smtp-client.ts";
import { queueIdOf, useMxWorld, type Mx } from "./harness.ts";

const world = useMxWorld({ before, after });
const events = world.events;
const start = (env: Record<string, string>) => world.start(env);
const queueId = queueIdOf;

describe("pregreet (early talker) test", () => {
  let mx: Mx;
  before(async () => {
    mx = await start({ POSTLINE_MX_GREET_DELAY_MS: "1500" });
  });
  after(() => mx.stop());

  test("a client that talks before the greeting is not dropped: it gets the greeting, its command is answered, and its mail carries EARLY_TALKER", async () => {
    const c = await SmtpClient.connectWith(mx.port, "EHLO early.example.org\r\n", { localAddress: "127.0.0.21" });
    assert.equal((await c.read()).code, 220);
    assert.equal((await c.read()).code, 250, "the EHLO sent early is answered after the greeting");
    assert.equal((await c.command("MAIL FROM:<spammer@example.org>")).code, 250);
    assert.equal((await c.command("RCPT TO:<user@example.test>")).code, 250);
    assert.equal((await c.command("DATA")).code, 354);
    const reply = await c.data(message("early"));
    assert.equal(reply.code, 250, reply.raw);
    await c.quit();
    assert.deepEqual((await events.waitFor(queueId(reply.raw))).sessionSymbols, ["EARLY_TALKER"]);
  });

  test("an address that waited once is greeted at once afterwards; its mail has no symbol", async () => {
    const first = Date.now();
    const c1 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.22" });
    assert.equal((await c1.read()).code, 220);
    assert.ok(Date.now() - first >= 1400, "the first session waited for the pregreet test");
    const reply = await sendMail(c1, { from: "patient@example.org", to: ["user@example.test"], message: message("patient") });
    assert.equal(reply.code, 250);
    await c1.quit();
    assert.deepEqual((await events.waitFor(queueId(reply.raw))).sessionSymbols, []);

    const second = Date.now();
    const c2 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.22" });
    assert.equal((await c2.read()).code, 220);
    assert.ok(Date.now() - second < 1000, "no wait for an address that passed");
    await c2.quit();
  });

  test("an early talker is tested again on its next connection", async () => {
    const c1 = await SmtpClient.connectWith(mx.port, "EHLO x\r\n", { localAddress: "127.0.0.23" });
    assert.equal((await c1.read()).code, 220);
    await c1.quit();
    const c2 = await SmtpClient.connectWith(mx.port, "EHLO x\r\n", { localAddress: "127.0.0.23" });
    assert.equal((await c2.read()).code, 220);
    assert.equal((await c2.read()).code, 250);
    const reply = await sendMail(c2, { from: "again@example.org", to: ["user@example.test"], message: message("again") });
    await c2.quit();
    assert.deepEqual((await events.waitFor(queueId(reply.raw))).sessionSymbols, ["EARLY_TALKER"]);
  });
});

describe("time limits", () => {
  test("idle: 421 4.4.2 after POSTLINE_MX_IDLE_TIMEOUT_MS without input", async () => {
    const mx = await start({ POSTLINE_MX_IDLE_TIMEOUT_MS: "300" });
    try {
      const c = await SmtpClient.connect(mx.port);
      assert.equal((await c.read()).code, 220);
      await c.command("EHLO client.example.org");
      const r = await c.read(5000);
      assert.equal(r.code, 421);
      assert.match(r.raw, /^421 4\.4\.2 /);
      await c.closed;
    } finally {
      await mx.stop();
    }
  });

  test("whole session: 421 4.4.2 once POSTLINE_MX_SESSION_TIMEOUT_MS is over, even for a busy client", async () => {
    const mx = await start({ POSTLINE_MX_SESSION_TIMEOUT_MS: "700" });
    try {
      const c = await SmtpClient.connect(mx.port);
      assert.equal((await c.read()).code, 220);
      let r;
      for (let i = 0; i < 100; i++) {
        r = await c.command("NOOP");
        if (r.code !== 250) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      assert.equal(r!.code, 421);
      assert.match(r!.raw, /^421 4\.4\.2 .*session time/);
      await c.closed;
    } finally {
      await mx.stop();
    }
  });
});

describe("graceful stop", () => {
  test("stop refuses new connections, lets a message in DATA finish with 250, then the session gets 421", async () => {
    const mx = await start({ POSTLINE_MX_SHUTDOWN_GRACE_MS: "5000" });
    const c = await SmtpClient.connect(mx.port);
    assert.equal((await c.read()).code, 220);
    await c.command("EHLO client.example.org");
    await c.command("MAIL FROM:<a@example.org>");
    await c.command("RCPT TO:<user@example.test>");
    assert.equal((await c.command("DATA")).code, 354);
    c.write(message("in flight"));
    const stopped = mx.stop();
    await new Promise((r) => setTimeout(r, 100));
    await assert.rejects(SmtpClient.connect(mx.port), /ECONNREFUSED/);
    const reply = await c.data("last line\r\n");
    assert.equal(reply.code, 250, reply.raw);
    const next = await c.command("MAIL FROM:<a@example.org>");
    assert.equal(next.code, 421);
    await c.closed;
    await stopped;
    await events.waitFor(queueId(reply.raw));
  });
});
