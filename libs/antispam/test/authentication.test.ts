import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startDnsServer, type DnsServer } from "@postline/testkit";
import { createClassifier, createDnsResolver, type Classifier, type ClassifyResult } from "../src/index.ts";
import { arcSealed, ip, message, signed, streamOf, zones } from "./fixtures.ts";

describe("authentication against a loopback DNS server (SPF, DKIM, DMARC, ARC)", () => {
  let dns: DnsServer;
  let classifier: Classifier;

  before(async () => {
    dns = await startDnsServer(zones);
    classifier = createClassifier({ hostname: "mx.example.test", resolver: createDnsResolver([dns.address]), dnsblZones: ["bl.test"] });
  });
  after(() => dns.stop());

  const classify = (raw: Buffer, from: { ip: string; mailFrom: string; helo?: string }) =>
    classifier.classify({
      open: streamOf(raw),
      size: raw.length,
      source: "inbound",
      client: { ip: from.ip, helo: from.helo ?? "mail.sender.test" },
      mailFrom: from.mailFrom,
    });
  const names = (r: ClassifyResult) => r.symbols.map((s) => s.name);

  test("SPF pass, DKIM pass and DMARC pass for a signed message from the sender's address", async () => {
    const r = await classify(await signed(message()), { ip: ip.sender, mailFrom: "alice@sender.test" });
    assert.deepEqual(r.errors, []);
    assert.match(r.authResults, /^mx\.example\.test;/);
    assert.match(r.authResults, /spf=pass/);
    assert.match(r.authResults, /dkim=pass header\.i=@sender\.test/);
    assert.match(r.authResults, /dmarc=pass/);
    for (const s of ["SPF_PASS", "DKIM_PASS", "DMARC_PASS"]) assert.ok(names(r).includes(s), s);
    assert.equal(r.action, "deliver");
    assert.ok(r.score < 0, `score ${r.score}`);
  });

  test("SPF fail", async () => {
    const r = await classify(message({ from: "x@relaxed.test" }), { ip: ip.noPtr, mailFrom: "x@relaxed.test" });
    assert.match(r.authResults, /spf=fail/);
    assert.ok(names(r).includes("SPF_FAIL"));
  });

  test("SPF softfail", async () => {
    const r = await classify(message({ from: "x@soft.test" }), { ip: ip.noPtr, mailFrom: "x@soft.test" });
    assert.match(r.authResults, /spf=softfail/);
    assert.ok(names(r).includes("SPF_SOFTFAIL"));
    assert.ok(!names(r).includes("SPF_FAIL"));
  });

  test("DKIM fail when the body was altered after signing", async () => {
    const raw = Buffer.from((await signed(message())).toString().replace("noon", "midnight"));
    const r = await classify(raw, { ip: ip.sender, mailFrom: "alice@sender.test" });
    assert.match(r.authResults, /dkim=(fail|neutral)[^;]*body hash did not verify/);
    assert.ok(names(r).includes("DKIM_FAIL"));
    assert.ok(!names(r).includes("DKIM_PASS"));
    // SPF still aligns, so DMARC passes
    assert.ok(names(r).includes("DMARC_PASS"));
  });

  test("DMARC fail with p=reject: forced reject", async () => {
    const r = await classify(message(), { ip: ip.forwarder, mailFrom: "alice@sender.test", helo: "mail.forwarder.test" });
    assert.match(r.authResults, /dmarc=fail/);
    assert.match(r.authResults, /p=REJECT|policy\.dmarc=reject|p=reject/i);
    assert.ok(names(r).includes("DMARC_REJECT"));
    assert.equal(r.action, "reject");
  });

  test("DMARC fail with p=quarantine: at least junk", async () => {
    const raw = message({ from: "Q <q@quarantine.test>" });
    const r = await classify(raw, { ip: ip.forwarder, mailFrom: "q@quarantine.test", helo: "mail.forwarder.test" });
    assert.ok(names(r).includes("DMARC_QUARANTINE"));
    assert.equal(r.action, "junk");
  });

  test("DMARC fail with p=none only scores", async () => {
    const r = await classify(message({ from: "x@relaxed.test" }), { ip: ip.forwarder, mailFrom: "x@relaxed.test", helo: "mail.forwarder.test" });
    assert.ok(names(r).includes("DMARC_FAIL_NONE"));
    assert.equal(r.action, "deliver");
  });

  test("an ARC chain sealed by a forwarder that edited the body verifies (arc=pass) though DKIM now fails", async () => {
    const original = await signed(message());
    const edited = Buffer.from(original.toString().replace("noon", "12:00 (footer added by the list)"));
    const raw = await arcSealed(edited, "mail.forwarder.test; dkim=pass header.i=@sender.test; spf=pass smtp.mailfrom=sender.test");
    const r = await classify(raw, { ip: ip.forwarder, mailFrom: "list@forwarder.test", helo: "mail.forwarder.test" });
    assert.match(r.authResults, /arc=pass/);
    assert.ok(names(r).includes("ARC_PASS"));
    assert.ok(names(r).includes("DKIM_FAIL"));
  });

  test("an ARC set broken by a later change fails (arc=fail)", async () => {
    const sealed = await arcSealed(await signed(message()), "mail.forwarder.test; dkim=pass header.i=@sender.test");
    const raw = Buffer.from(sealed.toString().replace("Subject: Lunch on Thursday", "Subject: Lunch on Friday"));
    const r = await classify(raw, { ip: ip.forwarder, mailFrom: "list@forwarder.test", helo: "mail.forwarder.test" });
    assert.match(r.authResults, /arc=fail/);
    assert.ok(names(r).includes("ARC_FAIL"));
  });

  test("submitted mail skips SPF/DKIM/DMARC and says auth=pass", async () => {
    const raw = message({ from: "x@relaxed.test" });
    const r = await classifier.classify({
      open: streamOf(raw),
      size: raw.length,
      source: "submission",
      client: { ip: ip.noPtr, helo: "laptop", authUser: "x@relaxed.test" },
      mailFrom: "x@relaxed.test",
    });
    assert.equal(r.authResults, "mx.example.test; auth=pass smtp.auth=x@relaxed.test");
    assert.deepEqual(names(r), []);
    assert.equal(r.action, "deliver");
  });
});
