import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { SmtpClient, message, sendMail } from "./smtp-client.ts";
import { queueIdOf, useMxWorld, type Mx } from "./harness.ts";
import { PROXY_V2_SIGNATURE } from "../src/proxy-v2.ts";

const world = useMxWorld({ before, after });
const events = world.events;
const start = (env: Record<string, string>) => world.start(env);
const queueId = queueIdOf;

describe("connections per client address", () => {
  let mx: Mx;
  before(async () => {
    mx = await start({ POSTLINE_MX_MAX_CONNECTIONS_PER_IP: "2" });
  });
  after(() => mx.stop());

  test("the third concurrent session from one address gets 421 4.7.0 at connect; other addresses are not affected; a freed slot is usable again", async () => {
    const a1 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.31" });
    const a2 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.31" });
    assert.equal((await a1.read()).code, 220);
    assert.equal((await a2.read()).code, 220);
    const a3 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.31" });
    const refused = await a3.read();
    assert.equal(refused.code, 421);
    assert.match(refused.raw, /^421 4\.7\.0 .*too many connections from your address/);
    await a3.closed;

    const b = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.32" });
    assert.equal((await b.read()).code, 220);
    await b.quit();

    await a1.quit();
    await new Promise((r) => setTimeout(r, 50));
    const a4 = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.31" });
    assert.equal((await a4.read()).code, 220);
    await a4.quit();
    await a2.quit();
    assert.match(await mx.registry.metrics(), /postline_inbound_mx_sessions_total\{result="refused_per_ip_limit"\} 1/);
  });
});

describe("PROXY protocol", () => {
  let mx: Mx;
  before(async () => {
    mx = await start({ POSTLINE_MX_PROXY_PROTOCOL: "true", POSTLINE_MX_MAX_CONNECTIONS_PER_IP: "1" });
  });
  after(() => mx.stop());

  async function mailThrough(prefix: Buffer | string): Promise<string> {
    const c = await SmtpClient.connectWith(mx.port, prefix);
    assert.equal((await c.read()).code, 220);
    const reply = await sendMail(c, { from: "p@example.org", to: ["user@example.test"], message: message("proxied") });
    await c.quit();
    assert.equal(reply.code, 250, reply.raw);
    return (await events.waitFor(queueId(reply.raw))).client.ip;
  }

  test("v1: the client address from the header is the one in the event", async () => {
    assert.equal(await mailThrough("PROXY TCP4 203.0.113.7 127.0.0.1 40000 25\r\n"), "203.0.113.7");
    assert.equal(await mailThrough("PROXY TCP6 2001:db8::7 ::1 40000 25\r\n"), "2001:db8::7");
  });

  test("v2 (binary): IPv4 and IPv6 addresses; LOCAL keeps the connection's own", async () => {
    const v4 = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x11, 0x00, 12, 198, 51, 100, 9, 127, 0, 0, 1, 0x9c, 0x40, 0x00, 0x19])]);
    assert.equal(await mailThrough(v4), "198.51.100.9");
    const v6addr = Buffer.from("20010db8000000000000000000000009", "hex");
    const v6 = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x21, 0x21, 0x00, 36]), v6addr, Buffer.alloc(16), Buffer.from([0x9c, 0x40, 0x00, 0x19])]);
    assert.equal(await mailThrough(v6), "2001:db8::9");
    const local = Buffer.concat([PROXY_V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    assert.equal(await mailThrough(local), "127.0.0.1");
  });

  test("the per-address limit counts the real client address, not the balancer's", async () => {
    const a = await SmtpClient.connectWith(mx.port, "PROXY TCP4 192.0.2.50 127.0.0.1 1 25\r\n");
    assert.equal((await a.read()).code, 220);
    const b = await SmtpClient.connectWith(mx.port, "PROXY TCP4 192.0.2.51 127.0.0.1 1 25\r\n");
    assert.equal((await b.read()).code, 220, "another client behind the same balancer");
    const c = await SmtpClient.connectWith(mx.port, "PROXY TCP4 192.0.2.50 127.0.0.1 2 25\r\n");
    assert.equal((await c.read()).code, 421);
    await Promise.all([a.quit(), b.quit(), c.closed]);
  });

  test("a connection without a valid header is dropped without a session", async () => {
    const c = await SmtpClient.connectWith(mx.port, "EHLO sneaky.example.org\r\n");
    await c.closed;
    const d = await SmtpClient.connectWith(mx.port, Buffer.concat([PROXY_V2_SIGNATURE.subarray(0, 8), Buffer.from("garbage!")]));
    await d.closed;
    // and the listener still works
    assert.equal(await mailThrough("PROXY TCP4 203.0.113.8 127.0.0.1 40000 25\r\n"), "203.0.113.8");
  });
});
