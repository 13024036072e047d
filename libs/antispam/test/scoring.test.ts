import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { actionForScore, antispamSchema, defaultSymbols, defaultThresholds, score, sessionPolicyOptionsFromSettings } from "../src/index.ts";
import { parseConfig } from "@postline/config";

describe("scores and thresholds", () => {
  test("thresholds map the score to deliver / junk / quarantine / reject (inclusive)", () => {
    const t = { junk: 5, quarantine: 10, reject: 15 };
    assert.equal(actionForScore(-3, t), "deliver");
    assert.equal(actionForScore(4.99, t), "deliver");
    assert.equal(actionForScore(5, t), "junk");
    assert.equal(actionForScore(9.9, t), "junk");
    assert.equal(actionForScore(10, t), "quarantine");
    assert.equal(actionForScore(15, t), "reject");
    assert.equal(actionForScore(40, t), "reject");
  });

  test("symbol scores add up; the action follows the sum", () => {
    const r = score([{ name: "EXECUTABLE_ATTACHMENT", detail: "a.exe" }, { name: "RBL_LISTED" }], defaultSymbols, defaultThresholds);
    assert.equal(r.score, 15);
    assert.equal(r.action, "reject");
    assert.deepEqual(r.symbols[0], { name: "EXECUTABLE_ATTACHMENT", score: 8, detail: "a.exe" });
  });

  test("DMARC policy symbols raise the action whatever the score", () => {
    assert.equal(score([{ name: "DMARC_REJECT" }, { name: "DKIM_PASS" }], defaultSymbols, { junk: 50, quarantine: 60, reject: 70 }).action, "reject");
    assert.equal(score([{ name: "DMARC_QUARANTINE" }], defaultSymbols, { junk: 50, quarantine: 60, reject: 70 }).action, "junk");
    // a higher score still wins over the minimum
    assert.equal(score([{ name: "DMARC_QUARANTINE" }, { name: "EXECUTABLE_ATTACHMENT" }], defaultSymbols, defaultThresholds).action, "quarantine");
  });

  test("custom thresholds and symbols", () => {
    const symbols = { ...defaultSymbols, BAYES_SPAM: { score: 6, description: "learned" } };
    assert.equal(score([{ name: "BAYES_SPAM" }], symbols, { junk: 3, quarantine: 6, reject: 20 }).action, "quarantine");
  });

  test("settings: defaults and overrides from the environment", () => {
    const d = parseConfig(antispamSchema, {});
    assert.equal(d.POSTLINE_SPAM_JUNK_SCORE, 5);
    assert.equal(d.POSTLINE_SPAM_QUARANTINE_SCORE, 10);
    assert.equal(d.POSTLINE_SPAM_REJECT_SCORE, 15);
    assert.deepEqual(d.POSTLINE_DNS_SERVERS, []);
    const s = parseConfig(antispamSchema, { POSTLINE_DNS_SERVERS: "127.0.0.1:5353, [::1]:53", POSTLINE_DNSBL_ZONES: "zen.test", POSTLINE_SPAM_JUNK_SCORE: "3.5" });
    assert.deepEqual(s.POSTLINE_DNS_SERVERS, ["127.0.0.1:5353", "[::1]:53"]);
    assert.deepEqual(s.POSTLINE_DNSBL_ZONES, ["zen.test"]);
    assert.equal(s.POSTLINE_SPAM_JUNK_SCORE, 3.5);
    const session = sessionPolicyOptionsFromSettings(parseConfig(antispamSchema, { POSTLINE_DNSBL_ZONES: "a.test,b.test", POSTLINE_SESSION_REJECT_DNSBL: "false", POSTLINE_HOSTNAME: "mx.test" }));
    assert.deepEqual(session.dnsblZones, ["a.test", "b.test"]);
    assert.equal(session.rejectDnsblAtConnect, false);
    assert.equal(session.rejectSpfFailDmarcReject, true);
    assert.equal(session.hostname, "mx.test");
    assert.equal(typeof session.resolver, "function");
  });
});
