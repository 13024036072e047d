import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDnsServer, type DnsServer } from "@postline/testkit";
import { createDnsResolver, createSessionPolicy, type SessionPolicy } from "../src/index.ts";

describe("session policy", () => {
  let dns: DnsServer;
  let policy: SessionPolicy;

  before(async () => {
    dns = await startDnsServer({
      addresses: { "66.0.0.127.bl.test": "127.0.0.2", "66.0.0.127.other-bl.test": "10.0.0.1" },
      txt: {
        "strict.test": "v=spf1 ip4:127.0.0.10 -all",
        "_dmarc.strict.test": "v=DMARC1; p=reject",
        "relaxed.test": "v=spf1 ip4:127.0.0.10 -all",
        "_dmarc.relaxed.test": "v=DMARC1; p=none",
        "org.test": "v=spf1 ip4:127.0.0.10 -all",
        "_dmarc.org.test": "v=DMARC1; p=none; sp=reject",
        "sub.org.test": "v=spf1 ip4:127.0.0.10 -all",
        "soft.test": "v=spf1 ip4:127.0.0.10 ~all",
        "_dmarc.soft.test": "v=DMARC1; p=reject",
      },
      hosts: { "sub.org.test": "127.0.0.20" },
    });
    policy = createSessionPolicy({
      dnsblZones: ["other-bl.test", "bl.test"],
      resolver: createDnsResolver([dns.address]),
      hostname: "mx.example.test",
    });
  });
  after(() => dns.stop());

  test("connect from a DNSBL-listed address is refused with 554 naming the zone", async () => {
    const rejection = await policy.checkConnect("127.0.0.66");
    assert.deepEqual(rejection, {
      code: 554,
      enhanced: "5.7.1",
      message: "Client host 127.0.0.66 is listed on bl.test",
      symbol: "RBL_LISTED",
    });
  });

  test("an IPv4-mapped client address is looked up as IPv4", async () => {
    assert.equal((await policy.checkConnect("::ffff:127.0.0.66"))?.code, 554);
  });

  test("an unlisted address, and an answer outside 127/8, are not refused", async () => {
    assert.equal(await policy.checkConnect("127.0.0.67"), null);
    const onlyOther = createSessionPolicy({ dnsblZones: ["other-bl.test"], resolver: createDnsResolver([dns.address]) });
    assert.equal(await onlyOther.checkConnect("127.0.0.66"), null);
  });

  test("SPF fail for a domain with DMARC p=reject is refused with 550", async () => {
    const rejection = await policy.checkMailFrom({ ip: "127.0.0.99", helo: "forger.test", mailFrom: "ceo@strict.test" });
    assert.equal(rejection?.code, 550);
    assert.equal(rejection?.enhanced, "5.7.1");
    assert.equal(rejection?.symbol, "SPF_FAIL_DMARC_REJECT");
    assert.match(rejection!.message, /strict\.test/);
  });

  test("the organizational domain's sp=reject applies to a subdomain sender", async () => {
    const rejection = await policy.checkMailFrom({ ip: "127.0.0.99", helo: "forger.test", mailFrom: "a@sub.org.test" });
    assert.equal(rejection?.code, 550);
  });

  test("SPF fail with DMARC p=none, SPF softfail, SPF pass, null sender and no records are accepted", async () => {
    const cases = [
      { ip: "127.0.0.99", helo: "h.test", mailFrom: "a@relaxed.test" },
      { ip: "127.0.0.99", helo: "h.test", mailFrom: "a@soft.test" },
      { ip: "127.0.0.10", helo: "h.test", mailFrom: "a@strict.test" },
      { ip: "127.0.0.99", helo: "h.test", mailFrom: "" },
      { ip: "127.0.0.99", helo: "h.test", mailFrom: "a@unknown.test" },
    ];
    for (const input of cases) assert.equal(await policy.checkMailFrom(input), null, input.mailFrom);
  });

  test("disabled checks never refuse", async () => {
    const off = createSessionPolicy({
      dnsblZones: ["bl.test"],
      resolver: createDnsResolver([dns.address]),
      rejectDnsblAtConnect: false,
      rejectSpfFailDmarcReject: false,
    });
    assert.equal(await off.checkConnect("127.0.0.66"), null);
    assert.equal(await off.checkMailFrom({ ip: "127.0.0.99", helo: "h.test", mailFrom: "a@strict.test" }), null);
  });

  test("an unreachable DNS server fails open", async () => {
    const dead = createSessionPolicy({
      dnsblZones: ["bl.test"],
      resolver: createDnsResolver(["127.0.0.1:9"], { timeoutMs: 200, tries: 1 }),
    });
    assert.equal(await dead.checkConnect("127.0.0.66"), null);
    assert.equal(await dead.checkMailFrom({ ip: "127.0.0.99", helo: "h.test", mailFrom: "a@strict.test" }), null);
  });
});
