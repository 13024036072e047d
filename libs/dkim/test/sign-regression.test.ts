import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { dkimVerify } from "mailauth";
import { dnsRecordFor, publicKeyOf, signMessage, txtStrings, type SigningKey } from "../src/index.ts";

/*
 * Regression: RSA-2048 + Ed25519 signed together, about one RSA signature in 300 failed to verify
 * ("bad signature"). Cause: called without signTime, mailauth 4.13.3 computes t= as
 * Math.round(Date.now() / 1000) twice, once for the DKIM-Signature field it hashes and once for the
 * field it emits after crypto.sign; when a half-second boundary passes in between (RSA signing
 * takes ~1 ms) the emitted t= is one higher than the signed one. The fixture keys and message
 * below are fixed; the clock is set to the boundary of the failing run (emitted t=1795876444).
 */
const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const DOMAIN = "signed.test";
const KEYS: SigningKey[] = [
  { domain: DOMAIN, selector: "s238", algorithm: "rsa-sha256", privateKey: fixture("regression-rsa2048.pem").toString("utf8") },
  { domain: DOMAIN, selector: "e238", algorithm: "ed25519-sha256", privateKey: fixture("regression-ed25519.pem").toString("utf8") },
];
const MESSAGE = fixture("regression-message.eml");
/** One millisecond before t= rounds up from 1795876443 to 1795876444. */
const BOUNDARY_MS = 1795876443499;

const RECORDS = new Map(KEYS.map((k) => {
  const r = dnsRecordFor(DOMAIN, k.selector, k.algorithm, publicKeyOf(k.privateKey, k.algorithm));
  return [r.name, r.value] as const;
}));
async function resolver(name: string, rrtype: string): Promise<string[][]> {
  const value = rrtype === "TXT" ? RECORDS.get(name.toLowerCase().replace(/\.$/, "")) : undefined;
  if (value === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
  return [txtStrings(value)];
}

async function verify(signed: Buffer): Promise<string[]> {
  const v = await dkimVerify(signed, { resolver } as unknown as Parameters<typeof dkimVerify>[1]);
  return v.results.map((r) => `${r.status.header?.a ?? "?"}:${r.status.result}${r.status.comment ? ` (${r.status.comment})` : ""}`);
}

/** The t= of every DKIM-Signature field, in order. */
function timestamps(signed: Buffer): number[] {
  const text = signed.toString("latin1");
  const header = text.slice(0, text.indexOf("\r\nFrom:"));
  return [...header.matchAll(/[;\s]t=(\d+);/g)].map((m) => Number(m[1]));
}

describe("DKIM signing regressions", () => {
  test("signing without signTime while the clock passes a half-second boundary: both signatures verify", async (t) => {
    // Every Date.now() reading is one millisecond later than the one before, starting at the boundary.
    let reading = BOUNDARY_MS;
    t.mock.method(Date, "now", () => reading++);
    const signed = await signMessage(MESSAGE, KEYS, { domain: DOMAIN });
    t.mock.restoreAll();
    assert.deepEqual(await verify(signed), ["rsa-sha256:pass", "ed25519-sha256:pass"], signed.toString("latin1"));
    const ts = timestamps(signed);
    assert.equal(ts.length, 2);
    assert.equal(ts[0], ts[1], "both signatures carry the same t=");
  });

  test("a given signTime is the t= of both signatures, and the output is deterministic", async () => {
    const signTime = new Date(BOUNDARY_MS);
    const a = await signMessage(MESSAGE, KEYS, { domain: DOMAIN, signTime });
    const b = await signMessage(MESSAGE, KEYS, { domain: DOMAIN, signTime });
    assert.deepEqual(a, b);
    assert.deepEqual(timestamps(a), [1795876443, 1795876443]);
    assert.deepEqual(await verify(a), ["rsa-sha256:pass", "ed25519-sha256:pass"]);
    assert.ok(a.subarray(a.length - MESSAGE.length).equals(MESSAGE), "the message follows the signature fields unchanged");
  });

  test("h= lists our SIGNED_HEADERS present in the message, not mailauth's default list", async () => {
    const signed = await signMessage(MESSAGE, KEYS, { domain: DOMAIN, signTime: new Date(BOUNDARY_MS) });
    const text = signed.toString("latin1");
    const hs = [...text.slice(0, text.indexOf("\r\nFrom:")).matchAll(/[;\s]h=([^;]+);/g)].map((m) => m[1]!.replace(/\s+/g, "").toLowerCase().split(":").sort());
    const expected = ["date", "feedback-id", "from", "list-unsubscribe", "list-unsubscribe-post", "message-id", "subject", "to"];
    assert.deepEqual(hs, [expected, expected]);
  });
});
