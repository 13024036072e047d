import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dnsmasqConfig, startDnsServer, type DnsServer } from "@postline/testkit";
import { cachedResolver, createDnsResolver, type DnsResolve } from "../src/index.ts";

const longKey = `v=DKIM1; k=rsa; p=${"A".repeat(600)}`;

describe("test DNS server (dnsmasq) and the resolver", () => {
  let dns: DnsServer;
  let resolve: DnsResolve;
  const dig = (...args: string[]) => execFileSync("dig", [`@127.0.0.1`, "-p", String(dns.port), "+short", ...args], { encoding: "utf8" }).trim();
  const digStatus = (...args: string[]) => /status: (\w+)/.exec(execFileSync("dig", [`@127.0.0.1`, "-p", String(dns.port), ...args], { encoding: "utf8" }))?.[1];

  before(async () => {
    dns = await startDnsServer({
      hosts: { "mx.example.test": "127.0.0.1", "v6.example.test": "::1" },
      mx: { "example.test": ["mx.example.test", { host: "backup.example.test", preference: 50 }] },
      txt: { "example.test": ["v=spf1 -all", "other"], "s._domainkey.example.test": longKey },
      ptr: { "127.0.0.7": "seven.example.test" },
      addresses: { "7.0.0.127.bl.test": "127.0.0.2" },
      cname: { "alias.example.test": "mx.example.test" },
    });
    resolve = createDnsResolver([dns.address]);
  });
  after(() => dns.stop());

  test("serves A (with PTR), MX, TXT, PTR, CNAME on 127.0.0.1:<port>", () => {
    assert.match(dns.address, /^127\.0\.0\.1:\d+$/);
    assert.equal(dig("mx.example.test", "A"), "127.0.0.1");
    assert.equal(dig("v6.example.test", "AAAA"), "::1");
    assert.equal(dig("-x", "127.0.0.1"), "mx.example.test.");
    assert.deepEqual(dig("example.test", "MX").split("\n").sort(), ["10 mx.example.test.", "50 backup.example.test."]);
    assert.equal(dig("-x", "127.0.0.7"), "seven.example.test.");
    assert.equal(dig("7.0.0.127.bl.test", "A"), "127.0.0.2");
    assert.match(dig("alias.example.test", "A"), /mx\.example\.test\.\n127\.0\.0\.1/);
  });

  test("a TXT record over 255 bytes is split into character-strings that join back", async () => {
    assert.equal(dig("s._domainkey.example.test", "TXT").split('" "').length, 3);
    const rows = (await resolve("s._domainkey.example.test", "TXT")) as string[][];
    assert.equal(rows[0]!.join(""), longKey);
  });

  test("unknown names are NXDOMAIN (ENOTFOUND), known names without the type NODATA (ENODATA): nothing is forwarded", async () => {
    assert.equal(digStatus("www.google.com", "A"), "NXDOMAIN");
    await assert.rejects(resolve("nothing.example.test", "A"), { code: "ENOTFOUND" });
    await assert.rejects(resolve("mx.example.test", "TXT"), { code: "ENODATA" });
    assert.deepEqual(((await resolve("example.test", "TXT")) as string[][]).map((r) => r.join("")).sort(), ["other", "v=spf1 -all"]);
  });

  test("config generation quotes TXT strings", () => {
    assert.match(dnsmasqConfig({ txt: { "q.test": 'say "hi"' } }), /txt-record=q\.test,"say \\"hi\\""/);
  });

  test("the resolver cache answers repeats without asking, including NXDOMAIN, but not failures", async () => {
    let calls = 0;
    let fail = false;
    const cached = cachedResolver(
      async (name, rrtype) => {
        calls++;
        if (fail) throw Object.assign(new Error("timeout"), { code: "ETIMEOUT" });
        return resolve(name, rrtype);
      },
      { ttlMs: 60_000 },
    );
    assert.deepEqual(await cached("mx.example.test", "A"), ["127.0.0.1"]);
    assert.deepEqual(await cached("MX.example.test", "A"), ["127.0.0.1"]);
    await assert.rejects(cached("none.example.test", "A"), { code: "ENOTFOUND" });
    await assert.rejects(cached("none.example.test", "A"), { code: "ENOTFOUND" });
    assert.equal(calls, 2);
    fail = true;
    await assert.rejects(cached("other.example.test", "A"), { code: "ETIMEOUT" });
    await new Promise((r) => setImmediate(r));
    fail = false;
    await assert.rejects(cached("other.example.test", "A"), { code: "ENOTFOUND" });
    assert.equal(calls, 4);
  });

  test("stop() ends dnsmasq", async () => {
    const other = await startDnsServer({ hosts: { "a.test": "127.0.0.1" } });
    const r = createDnsResolver([other.address], { timeoutMs: 200, tries: 1 });
    assert.deepEqual(await r("a.test", "A"), ["127.0.0.1"]);
    await other.stop();
    await assert.rejects(r("a.test", "A"));
  });
});
