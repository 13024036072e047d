import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { text } from "node:stream/consumers";
import { createTestDatabase, startDnsServer, type DnsServer, type TestDatabase } from "@postline/testkit";
import { SmtpClient, message, sendMail } from "./smtp-client.ts";
import { EventCollector, localAdapters, seedDirectory, startMx, type LocalAdapters, type Mx } from "./harness.ts";

// Session-time anti-spam through @postline/antispam against a real DNS server (dnsmasq on loopback).

let t: TestDatabase;
let adapters: LocalAdapters;
let dns: DnsServer;
let mx: Mx;
const events = new EventCollector();

before(async () => {
  t = await createTestDatabase();
  await seedDirectory(t.db);
  adapters = await localAdapters(t.db);
  await events.start(adapters.bus);
  dns = await startDnsServer({
    hosts: { "relay.sender.test": "127.0.0.41" },
    addresses: { "42.0.0.127.bl.test": "127.0.0.2" },
    txt: {
      "strict.test": "v=spf1 ip4:192.0.2.1 -all",
      "_dmarc.strict.test": "v=DMARC1; p=reject",
      "lenient.test": "v=spf1 ip4:192.0.2.1 -all",
      "_dmarc.lenient.test": "v=DMARC1; p=none",
    },
  });
  mx = await startMx(
    { db: t.db, bus: adapters.bus, blobs: adapters.blobs },
    {
      POSTLINE_DNS_SERVERS: dns.address,
      POSTLINE_DNSBL_ZONES: "bl.test",
      POSTLINE_SESSION_REJECT_SPF_DMARC: "true",
      POSTLINE_MX_REVERSE_DNS: "true",
    },
  );
});
after(async () => {
  await mx?.stop();
  await dns?.stop();
  await events.stop();
  await adapters?.close();
  await t?.drop();
});

const queueId = (text: string) => /queued as (\S+)/.exec(text)![1]!;

describe("at connect", () => {
  test("a client listed on a configured DNSBL is refused with 554 5.7.1", async () => {
    const c = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.42" });
    const r = await c.read();
    assert.equal(r.code, 554);
    assert.match(r.raw, /^554 5\.7\.1 .*bl\.test/);
    await c.closed;
  });

  test("an unlisted client is greeted; its forward-confirmed reverse DNS name is in the event and the Received header", async () => {
    const c = await SmtpClient.connect(mx.port, { localAddress: "127.0.0.41" });
    assert.equal((await c.read()).code, 220);
    const reply = await sendMail(c, { from: "someone@elsewhere.test", to: ["user@example.test"], message: message("rdns") });
    await c.quit();
    assert.equal(reply.code, 250, reply.raw);
    const e = await events.waitFor(queueId(reply.raw));
    assert.equal(e.client.hostname, "relay.sender.test");
    const stored = await text(await adapters.blobs.get(e.blob.key));
    assert.match(stored, /^Received: from client\.example\.org \(relay\.sender\.test \[127\.0\.0\.41\]\)/);
  });
});

describe("at MAIL FROM", () => {
  test("SPF fail for a domain whose DMARC policy is reject: 550 5.7.1", async () => {
    const c = await SmtpClient.connect(mx.port);
    assert.equal((await c.read()).code, 220);
    await c.command("EHLO client.example.org");
    const r = await c.command("MAIL FROM:<ceo@strict.test>");
    assert.equal(r.code, 550);
    assert.match(r.raw, /^550 5\.7\.1 /);
    // the same failure with p=none is left to the spam filter
    assert.equal((await c.command("MAIL FROM:<ceo@lenient.test>")).code, 250);
    await c.quit();
  });
});
