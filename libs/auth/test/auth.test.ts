import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Registry } from "prom-client";
import { addDomain, createAccount, setDisabled } from "@postline/directory";
import { createLogger } from "@postline/telemetry";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { clientKey, createAuthenticator, decodeSaslPlain, type Authenticator } from "../src/index.ts";

const LOCKOUT_MS = 500;
let t: TestDatabase;
let auth: Authenticator;
let registry: Registry;
let aliceId: number;

before(async () => {
  t = await createTestDatabase();
  await addDomain(t.db, "example.test");
  aliceId = (await createAccount(t.db, { address: "alice@example.test", password: "alice-password" })).id;
  await createAccount(t.db, { address: "bob@example.test", password: "bob-password" });
  await createAccount(t.db, { address: "carol@example.test", password: "carol-password" });
  await createAccount(t.db, { address: "dave@example.test", password: "dave-password" });
  await createAccount(t.db, { address: "erin@example.test", password: "erin-password" });
  await setDisabled(t.db, "erin@example.test", true);
  registry = new Registry();
  auth = createAuthenticator({
    db: t.db,
    logger: createLogger("auth-test", "silent"),
    registry,
    env: {
      POSTLINE_AUTH_MAX_FAILURES_PER_ACCOUNT: "3",
      POSTLINE_AUTH_MAX_FAILURES_PER_IP: "5",
      POSTLINE_AUTH_FAILURE_WINDOW_MS: "60000",
      POSTLINE_AUTH_LOCKOUT_MS: String(LOCKOUT_MS),
    },
  });
});
after(async () => {
  await t?.drop();
});

async function authTotal(protocol: string, result: string): Promise<number> {
  const m = await registry.getSingleMetric("postline_imap_pop3_auth_total")!.get();
  return m.values.find((v) => v.labels.protocol === protocol && v.labels.result === result)?.value ?? 0;
}

describe("login", () => {
  test("the right password logs in, whatever the case of the address", async () => {
    const r = await auth.login("Alice@EXAMPLE.test", "alice-password", "10.0.0.1", "imap");
    assert.deepEqual(r, { ok: true, account: { id: aliceId, address: "alice@example.test" } });
    assert.equal(await authTotal("imap", "success"), 1);
  });

  test("a wrong password, an unknown address and a name that is no address are all just invalid", async () => {
    assert.deepEqual(await auth.login("alice@example.test", "wrong-password", "10.0.0.2", "pop3"), { ok: false, reason: "invalid" });
    assert.deepEqual(await auth.login("nobody@example.test", "alice-password", "10.0.0.2", "pop3"), { ok: false, reason: "invalid" });
    assert.deepEqual(await auth.login("not an address", "alice-password", "10.0.0.2", "pop3"), { ok: false, reason: "invalid" });
    assert.equal(await authTotal("pop3", "invalid"), 3);
  });

  test("a disabled account is refused as disabled only with its right password", async () => {
    assert.deepEqual(await auth.login("erin@example.test", "erin-password", "10.0.0.3", "imap"), { ok: false, reason: "disabled" });
    assert.deepEqual(await auth.login("erin@example.test", "wrong-password", "10.0.0.3", "imap"), { ok: false, reason: "invalid" });
    assert.equal(await authTotal("imap", "disabled"), 1);
  });

  test("an unknown address costs about as much time as a wrong password (no existence leak by timing)", async () => {
    // Two tries each (the lockout comes at 3), interleaved so that load on the machine hits both alike.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 2; i++) {
      for (const [user, times] of [["dave@example.test", known], ["nobody-at-all@example.test", unknown]] as const) {
        const start = performance.now();
        await auth.login(user, `guess-${i}`, `10.1.0.${i}`, "imap");
        times.push(performance.now() - start);
      }
    }
    // The fastest try of each: a stall of the machine only ever lengthens a try (one of 225 ms among
    // 27-36 ms ones failed a mean), while an unknown address that skipped the hash would be fast in every try.
    const ratio = Math.min(...unknown) / Math.min(...known);
    assert.ok(ratio > 0.4 && ratio < 2.5, `unknown ${unknown.join()} ms vs known ${known.join()} ms`);
  });
});

describe("throttling", () => {
  test("per account: after the maximum of failures even the right password is refused until the lockout ends, which grows", async () => {
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await auth.login("bob@example.test", "wrong", `10.2.0.${i}`, "pop3"), { ok: false, reason: "invalid" });
    }
    const throttled = await auth.login("BOB@example.test", "bob-password", "10.2.1.1", "pop3");
    assert.equal(throttled.ok, false);
    assert.equal(!throttled.ok && throttled.reason, "throttled");
    const retry = !throttled.ok ? throttled.retryAfterMs! : 0;
    assert.ok(retry > 0 && retry <= LOCKOUT_MS, `retryAfterMs ${retry}`);
    // a throttled attempt costs no password check: it answers well below one argon2id verification
    const start = performance.now();
    assert.equal((await auth.login("bob@example.test", "wrong", "10.2.1.2", "pop3")).ok, false);
    const throttledMs = performance.now() - start;
    // another account from the same addresses is not affected
    assert.equal((await auth.login("carol@example.test", "carol-password", "10.2.0.0", "pop3")).ok, true);

    await sleep(retry + 50);
    // the lockout ended; the next run of failures locks for twice as long
    for (let i = 0; i < 3; i++) await auth.login("bob@example.test", "wrong", `10.2.2.${i}`, "pop3");
    const again = await auth.login("bob@example.test", "bob-password", "10.2.3.1", "pop3");
    assert.equal(!again.ok && again.reason, "throttled");
    const retry2 = !again.ok ? again.retryAfterMs! : 0;
    assert.ok(retry2 > LOCKOUT_MS && retry2 <= 2 * LOCKOUT_MS, `second lockout ${retry2} ms`);
    await sleep(retry2 + 50);
    assert.equal((await auth.login("bob@example.test", "bob-password", "10.2.3.1", "pop3")).ok, true);

    const verifyStart = performance.now();
    await auth.login("bob@example.test", "wrong", "10.2.4.1", "pop3");
    const verifyMs = performance.now() - verifyStart;
    assert.ok(throttledMs < verifyMs, `throttled ${throttledMs} ms, verified ${verifyMs} ms`);
    assert.ok((await authTotal("pop3", "throttled")) >= 3);
  });

  test("per account: a successful login resets the count", async () => {
    await auth.login("carol@example.test", "wrong", "10.3.0.1", "imap");
    await auth.login("carol@example.test", "wrong", "10.3.0.2", "imap");
    assert.equal((await auth.login("carol@example.test", "carol-password", "10.3.0.3", "imap")).ok, true);
    await auth.login("carol@example.test", "wrong", "10.3.0.4", "imap");
    await auth.login("carol@example.test", "wrong", "10.3.0.5", "imap");
    // 4 failures in the window, but only 2 since the success: not locked
    assert.equal((await auth.login("carol@example.test", "carol-password", "10.3.0.6", "imap")).ok, true);
  });

  test("per client address: many failures over many names lock the address, not the accounts", async () => {
    const ip = "192.0.2.77";
    for (let i = 0; i < 5; i++) {
      assert.deepEqual(await auth.login(`guess${i}@example.test`, "wrong", ip, "imap"), { ok: false, reason: "invalid" });
    }
    const r = await auth.login("dave@example.test", "dave-password", ip, "imap");
    assert.equal(!r.ok && r.reason, "throttled");
    assert.equal((await auth.login("dave@example.test", "dave-password", "192.0.2.78", "imap")).ok, true);
    // the same /64 counts as one IPv6 client
    for (let i = 0; i < 5; i++) await auth.login(`v6guess${i}@example.test`, "wrong", `2001:db8:1:2::${i + 1}`, "imap");
    const v6 = await auth.login("dave@example.test", "dave-password", "2001:db8:1:2:ffff::9", "imap");
    assert.equal(!v6.ok && v6.reason, "throttled");
    await sleep((!r.ok ? r.retryAfterMs! : 0) + 50);
    assert.equal((await auth.login("dave@example.test", "dave-password", ip, "imap")).ok, true);
  });
});

describe("helpers", () => {
  test("decodeSaslPlain reads authzid, authcid and password, and refuses malformed input", () => {
    const enc = (s: string) => Buffer.from(s, "utf8").toString("base64");
    assert.deepEqual(decodeSaslPlain(enc("\0alice@example.test\0pässword")), { authzid: "", authcid: "alice@example.test", password: "pässword" });
    assert.deepEqual(decodeSaslPlain(enc("admin\0alice\0pw")), { authzid: "admin", authcid: "alice", password: "pw" });
    assert.equal(decodeSaslPlain(enc("alice\0pw")), null);
    assert.equal(decodeSaslPlain(enc("\0\0pw")), null);
    assert.equal(decodeSaslPlain(enc("\0alice\0")), null);
    assert.equal(decodeSaslPlain("not base64!"), null);
    assert.deepEqual(decodeSaslPlain("AGFsaWNlAHB3"), { authzid: "", authcid: "alice", password: "pw" });
    assert.equal(decodeSaslPlain("AGFsaWNlAHB3="), null);
    assert.equal(decodeSaslPlain(Buffer.from([0, 0x61, 0, 0xff, 0xfe]).toString("base64")), null);
    assert.equal(decodeSaslPlain(""), null);
  });

  test("clientKey: IPv4-mapped addresses as IPv4, IPv6 by /64", () => {
    assert.equal(clientKey("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(clientKey("10.1.2.3"), "10.1.2.3");
    assert.equal(clientKey("2001:db8:0:1:2:3:4:5"), "2001:db8:0:1::/64");
    assert.equal(clientKey("2001:db8::1"), "2001:db8:0:0::/64");
    assert.equal(clientKey("::1"), "0:0:0:0::/64");
  });
});
