import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { startDnsServer, rspamdTestMessage, startRspamd, type DnsServer, type RspamdInstance } from "@postline/testkit";
import { checkWithRspamd, createClassifier, defaultRules, rspamdRule, type ClassifyResult, type RspamdOptions } from "../src/index.ts";

// The Rspamd merge against a real, private Rspamd from Debian's package (network modules off, its
// resolver on a dead loopback port). Through the spam filter service: services/spam-filter/test/rspamd.test.ts.
const plain = () => rspamdTestMessage("plain");
const gtube = () => rspamdTestMessage("gtube");

let dns: DnsServer;
let rspamd: RspamdInstance;

before(async () => {
  dns = await startDnsServer({ txt: { "sender.test": "v=spf1 ip4:127.0.0.10 -all" } });
  rspamd = await startRspamd();
});
after(async () => {
  await rspamd?.stop();
  await dns?.stop();
});

function classifier(options: RspamdOptions) {
  return createClassifier({
    hostname: "mx.example.test",
    resolver: undefined,
    rules: [...defaultRules, rspamdRule(options)],
  });
}

async function classify(c: ReturnType<typeof classifier>, raw: Buffer): Promise<ClassifyResult> {
  return c.classify({
    open: async () => Readable.from([raw]),
    size: raw.length,
    source: "inbound",
    client: { ip: "127.0.0.10", helo: "mail.sender.test" },
    mailFrom: "alice@sender.test",
    authenticate: false,
  });
}

describe("Rspamd merge", () => {
  test("checkWithRspamd sends the envelope as headers: a GTUBE message is Rspamd's reject", async () => {
    const r = await checkWithRspamd(gtube(), { ip: "127.0.0.10", helo: "mail.sender.test", mailFrom: "alice@sender.test", rcptTo: ["bob@example.test", "carol@example.test"], queueId: "Q123" }, { url: rspamd.url });
    assert.equal(r.action, "reject");
    assert.ok(r.score >= 15, `score ${r.score}`);
    assert.ok(r.symbols.some((s) => s.name === "GTUBE"));
    // the queue id reaches Rspamd (its log names it)
    assert.match(rspamd.log(), /queue-id: <Q123>|Q123/);
  });

  test("a GTUBE message gets a high RSPAMD score; RSPAMD_REJECT only when honoured", async () => {
    const merged = await classify(classifier({ url: rspamd.url }), gtube());
    assert.deepEqual(merged.errors, []);
    const hit = merged.symbols.find((s) => s.name === "RSPAMD");
    assert.ok(hit, JSON.stringify(merged.symbols));
    assert.ok(hit.score >= 15, `RSPAMD ${hit.score}`);
    assert.match(hit.detail ?? "", /^reject, 15(\.\d+)?\/15: .*GTUBE/);
    assert.equal(merged.symbols.some((s) => s.name === "RSPAMD_REJECT"), false);
    assert.equal(merged.action, "reject", "15 reaches our reject threshold on its own");

    const weighted = await classify(classifier({ url: rspamd.url, weight: 0.5 }), gtube());
    const half = weighted.symbols.find((s) => s.name === "RSPAMD")!;
    assert.equal(half.score, Math.round(hit.score * 50) / 100, "the weight scales Rspamd's score");
    assert.notEqual(weighted.action, "reject", "at half weight Rspamd alone does not reject");

    const honoured = await classify(classifier({ url: rspamd.url, weight: 0.5, honourReject: true }), gtube());
    assert.ok(honoured.symbols.some((s) => s.name === "RSPAMD_REJECT"));
    assert.equal(honoured.action, "reject", "Rspamd's reject honoured whatever the score");
  });

  test("a plain message gets a low RSPAMD score and is delivered", async () => {
    const r = await classify(classifier({ url: rspamd.url, honourReject: true }), plain());
    assert.deepEqual(r.errors, []);
    const hit = r.symbols.find((s) => s.name === "RSPAMD");
    assert.ok(hit, JSON.stringify(r.symbols));
    assert.ok(hit.score < 5, `RSPAMD ${hit.score}: ${hit.detail}`);
    assert.match(hit.detail ?? "", /^no action, /);
    assert.equal(r.action, "deliver");
  });

  test("Rspamd not answering: a rule error, the verdict computed without it", async () => {
    // a loopback port nobody listens on (Rspamd down), and a timeout on a server that never answers
    const down = await classify(classifier({ url: "http://127.0.0.1:9" }), gtube());
    assert.deepEqual(down.errors.map((e) => e.rule), ["rspamd"]);
    assert.match(String(down.errors[0]!.error), /RspamdError: rspamd at http:\/\/127\.0\.0\.1:9/);
    assert.equal(down.symbols.some((s) => s.name.startsWith("RSPAMD")), false);
    assert.equal(down.action, "deliver");

    const { createServer } = await import("node:net");
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const slow = await classify(classifier({ url: `http://127.0.0.1:${port}`, timeoutMs: 300 }), plain());
      assert.deepEqual(slow.errors.map((e) => e.rule), ["rspamd"]);
      assert.match(String(slow.errors[0]!.error), /abort|timeout/i);
      assert.equal(slow.action, "deliver");
    } finally {
      silent.close();
    }
  });
});
