import assert from "node:assert/strict";
import { createPublicKey, createPrivateKey } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { dkimVerify } from "mailauth";
import type { Db } from "@postline/db";
import { AlreadyExists, DomainNotFound, InvalidInput, NotFound, addDomain } from "@postline/directory";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import {
  activeSigningKeys,
  generateDkimKey,
  listDkimKeys,
  publicKeyOf,
  removeDkimKey,
  retireDkimKey,
  signMessage,
  txtStrings,
  type DkimKeyInfo,
} from "../src/index.ts";

/** A resolver in mailauth's shape serving the TXT records of the given keys, and nothing else. */
function resolverFor(keys: DkimKeyInfo[]) {
  const records = new Map(keys.map((k) => [k.dnsRecord.name.toLowerCase(), k.dnsRecord.value]));
  return async (name: string, rrtype: string): Promise<string[][]> => {
    const value = rrtype === "TXT" ? records.get(name.toLowerCase().replace(/\.$/, "")) : undefined;
    if (value === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    return [txtStrings(value)];
  };
}

const MESSAGE = Buffer.from(
  [
    "From: Alice <alice@sign.test>",
    "To: Bob <bob@elsewhere.test>",
    "Subject: signed hello",
    "Date: Sat, 28 Nov 2026 12:00:00 +0000",
    "Message-ID: <m1@sign.test>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Hello Bob,",
    "this message is signed twice.",
    "",
  ].join("\r\n"),
);

describe("DKIM keys", () => {
  let t: TestDatabase;
  let db: Db;

  before(async () => {
    t = await createTestDatabase();
    db = t.db;
    await addDomain(db, "sign.test");
    await addDomain(db, "other.test");
  });
  after(async () => t.drop());

  test("generate both: RSA-2048 and Ed25519 with the TXT records to publish", async () => {
    const keys = await generateDkimKey(db, "Sign.Test", { algorithm: "both", selector: "k1" });
    assert.deepEqual(keys.map((k) => [k.selector, k.algorithm, k.active]), [["k1-rsa", "rsa-sha256", true], ["k1-ed", "ed25519-sha256", true]]);
    const [rsa, ed] = keys as [DkimKeyInfo, DkimKeyInfo];
    assert.equal(rsa.dnsRecord.name, "k1-rsa._domainkey.sign.test");
    assert.equal(rsa.dnsRecord.value, `v=DKIM1; k=rsa; p=${rsa.publicKey}`);
    const spki = createPublicKey({ key: Buffer.from(rsa.publicKey, "base64"), format: "der", type: "spki" });
    assert.equal(spki.asymmetricKeyType, "rsa");
    assert.equal(spki.asymmetricKeyDetails?.modulusLength, 2048);
    // RFC 8463: the Ed25519 p= is the raw 32-byte key, not SPKI.
    assert.equal(ed.dnsRecord.value, `v=DKIM1; k=ed25519; p=${ed.publicKey}`);
    assert.equal(Buffer.from(ed.publicKey, "base64").length, 32);
    // The stored private keys are PKCS#8 PEM matching the published public keys.
    const stored = await activeSigningKeys(db, "sign.test");
    assert.equal(stored.length, 2);
    for (const k of stored) {
      assert.match(k.privateKey, /^-----BEGIN PRIVATE KEY-----/);
      assert.equal(createPrivateKey(k.privateKey).asymmetricKeyType, k.algorithm === "rsa-sha256" ? "rsa" : "ed25519");
      assert.equal(publicKeyOf(k.privateKey, k.algorithm), keys.find((x) => x.selector === k.selector)!.publicKey);
    }
    assert.equal(stored[0]!.algorithm, "rsa-sha256");
  });

  test("a message signed with both keys verifies (both signatures pass); a changed body fails", async () => {
    const listed = await listDkimKeys(db, "sign.test");
    const keys = await activeSigningKeys(db, "sign.test");
    const signed = await signMessage(MESSAGE, keys, { domain: "sign.test" });
    assert.ok(signed.subarray(signed.length - MESSAGE.length).equals(MESSAGE), "the original message follows the signatures");
    const head = signed.subarray(0, signed.length - MESSAGE.length).toString();
    assert.equal(head.match(/^DKIM-Signature:/gim)?.length, 2);
    assert.match(head, /a=rsa-sha256/);
    assert.match(head, /a=ed25519-sha256/);
    assert.match(head, /c=relaxed\/relaxed/);
    for (const sig of head.replace(/\r\n[ \t]+/g, " ").split(/\r\n/).filter(Boolean)) {
      const h = /\bh=([^;]+)/.exec(sig)?.[1]?.replace(/\s+/g, "").toLowerCase().split(":") ?? [];
      for (const name of ["from", "to", "subject", "date", "message-id", "mime-version", "content-type"]) assert.ok(h.includes(name), `h= lacks ${name}: ${sig}`);
    }

    const resolver = resolverFor(listed);
    const ok = await dkimVerify(signed, { resolver });
    assert.deepEqual(
      ok.results.map((r) => [r.selector, r.status.result]).sort(),
      [["k1-ed", "pass"], ["k1-rsa", "pass"]],
    );

    const tampered = Buffer.from(signed.toString().replace("signed twice", "signed thrice"));
    const bad = await dkimVerify(tampered, { resolver });
    assert.equal(bad.results.length, 2);
    for (const r of bad.results) assert.notEqual(r.status.result, "pass", `${r.selector} must not pass on a changed body`);

    const badHeader = Buffer.from(signed.toString().replace("Subject: signed hello", "Subject: signed goodbye"));
    for (const r of (await dkimVerify(badHeader, { resolver })).results) assert.notEqual(r.status.result, "pass");

    // Without the TXT records published, nothing passes.
    const none = await dkimVerify(signed, { resolver: resolverFor([]) });
    for (const r of none.results) assert.notEqual(r.status.result, "pass");
  });

  test("no keys: the message is returned unchanged", async () => {
    assert.deepEqual(await activeSigningKeys(db, "other.test"), []);
    assert.deepEqual(await activeSigningKeys(db, "unknown.test"), []);
    assert.equal(await signMessage(MESSAGE, [], { domain: "other.test" }), MESSAGE);
  });

  test("rotation: a new key keeps the old selectors; retire stops signing but stays listed; remove deletes", async () => {
    const [rotated] = await generateDkimKey(db, "sign.test", { selector: "k2" });
    assert.equal(rotated!.algorithm, "rsa-sha256");
    assert.deepEqual((await listDkimKeys(db, "sign.test")).map((k) => [k.selector, k.active]), [["k1-rsa", true], ["k1-ed", true], ["k2", true]]);
    assert.deepEqual((await activeSigningKeys(db, "sign.test")).map((k) => k.selector).sort(), ["k1-ed", "k1-rsa", "k2"]);

    const retired = await retireDkimKey(db, "sign.test", "K1-RSA");
    assert.equal(retired.active, false);
    assert.deepEqual((await listDkimKeys(db, "sign.test")).map((k) => [k.selector, k.active]), [["k1-rsa", false], ["k1-ed", true], ["k2", true]]);
    assert.deepEqual((await activeSigningKeys(db, "sign.test")).map((k) => k.selector).sort(), ["k1-ed", "k2"]);

    // After the retirement, mail carries signatures of the remaining active keys only, and they verify.
    const all = await listDkimKeys(db, "sign.test");
    const signedNow = await signMessage(MESSAGE, await activeSigningKeys(db, "sign.test"), { domain: "sign.test" });
    const res = await dkimVerify(signedNow, { resolver: resolverFor(all) });
    assert.deepEqual(res.results.map((r) => [r.selector, r.status.result]).sort(), [["k1-ed", "pass"], ["k2", "pass"]]);

    await removeDkimKey(db, "sign.test", "k1-rsa");
    assert.deepEqual((await listDkimKeys(db, "sign.test")).map((k) => k.selector), ["k1-ed", "k2"]);
    await assert.rejects(removeDkimKey(db, "sign.test", "k1-rsa"), NotFound);
    await assert.rejects(retireDkimKey(db, "sign.test", "nope"), NotFound);
  });

  test("listing never carries private keys", async () => {
    for (const k of await listDkimKeys(db, "sign.test")) {
      assert.equal(JSON.stringify(k).includes("PRIVATE"), false);
      assert.deepEqual(Object.keys(k).sort(), ["active", "algorithm", "createdAt", "dnsRecord", "domain", "publicKey", "selector"]);
    }
  });

  test("default selectors are dated and never collide", async () => {
    const date = new Date().toISOString().slice(0, 10).replaceAll("-", "");
    const a = await generateDkimKey(db, "other.test", { algorithm: "both" });
    assert.deepEqual(a.map((k) => k.selector), [`pl${date}-rsa`, `pl${date}-ed`]);
    const b = await generateDkimKey(db, "other.test", { algorithm: "ed25519-sha256" });
    assert.deepEqual(b.map((k) => k.selector), [`pl${date}b-ed`]);
    const c = await generateDkimKey(db, "other.test");
    assert.deepEqual(c.map((k) => [k.selector, k.algorithm]), [[`pl${date}b-rsa`, "rsa-sha256"]]);
  });

  test("errors: unknown domain, duplicate selector (nothing half-stored), bad selector or algorithm", async () => {
    await assert.rejects(generateDkimKey(db, "unknown.test"), DomainNotFound);
    await assert.rejects(listDkimKeys(db, "unknown.test"), DomainNotFound);
    await assert.rejects(generateDkimKey(db, "sign.test", { selector: "k2" }), AlreadyExists);
    // "both" where the Ed25519 name is taken: the RSA one is not stored either.
    await assert.rejects(generateDkimKey(db, "sign.test", { algorithm: "both", selector: "k1" }), AlreadyExists);
    assert.equal((await listDkimKeys(db, "sign.test")).some((k) => k.selector === "k1-rsa"), false);
    await assert.rejects(generateDkimKey(db, "sign.test", { selector: "bad_selector" }), InvalidInput);
    await assert.rejects(generateDkimKey(db, "sign.test", { selector: "-x" }), InvalidInput);
    await assert.rejects(generateDkimKey(db, "sign.test", { algorithm: "dsa" as never }), InvalidInput);
  });
});
