import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidInput, normalizeAddress, normalizeDomain, parseAddress } from "../src/index.ts";

test("domains become lower-case A-labels", () => {
  assert.equal(normalizeDomain("MAIL.Example.ORG"), "mail.example.org");
  assert.equal(normalizeDomain("münchen.de"), "xn--mnchen-3ya.de");
  assert.equal(normalizeDomain("xn--mnchen-3ya.de"), "xn--mnchen-3ya.de");
  assert.equal(normalizeDomain("example.com."), "example.com");
  assert.equal(normalizeDomain("localhost"), "localhost");
  for (const bad of ["", ".", "a..b", "exa mple.com", "under_score.com", "-lead.com", "trail-.com", "1.2.3.4", "[127.0.0.1]"]) {
    assert.throws(() => normalizeDomain(bad), InvalidInput, bad);
  }
});

test("addresses: lower-cased, dot-atom local parts, UTF-8 allowed", () => {
  assert.deepEqual(parseAddress(" John.Doe+Tag@Example.COM "), { localPart: "john.doe+tag", domain: "example.com", address: "john.doe+tag@example.com" });
  assert.equal(normalizeAddress("Δοκιμή@παράδειγμα.δοκιμή"), "δοκιμή@xn--hxajbheg2az3al.xn--jxalpdlp");
  assert.equal(normalizeAddress("o'brien@example.com"), "o'brien@example.com");
  for (const bad of ["plain", "a@b@", "@x.com", "a@", "a b@x.com", "a..b@x.com", "a.@x.com", '"quoted"@x.com', "a@-x.com", "a(comment)@x.com"]) {
    assert.throws(() => parseAddress(bad), InvalidInput, bad);
  }
});
