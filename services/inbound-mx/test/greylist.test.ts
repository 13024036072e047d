import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { metricSamples, simpleMessage, SmtpClient, type Reply } from "@postline/testkit";
import { clientNetwork } from "@postline/ip";
import { Greylist, greylistCounter, networkList } from "../src/greylist.ts";
import { parseMxSettings } from "../src/settings.ts";
import { useMxWorld, type Mx } from "./harness.ts";

// Greylisting at RCPT on the real PostgreSQL, through real SMTP sessions. Each test connects from
// loopback addresses of its own /24 (127.0.N.x), so the per-network state of one test (auto-allow)
// does not touch another's. A greylisting delay is skipped by ageing the triplet in the database.
const world = useMxWorld({ before, after });

/** Greylisting on, loopback not exempt (every client here is on loopback). */
const GREYLIST_ENV = { POSTLINE_GREYLIST: "true", POSTLINE_GREYLIST_EXEMPT_PRIVATE: "false", POSTLINE_GREYLIST_DELAY: "300" };

let mx: Mx;

/** One transaction in a new session from `from` (a loopback address): the RCPT replies and, if all passed, the message's. */
async function attempt(port: number, localAddress: string, mail: { from: string; to: string[] }): Promise<{ rcpts: Reply[]; final?: Reply }> {
  const c = await SmtpClient.connect(port, { localAddress });
  try {
    assert.equal((await c.read()).code, 220);
    assert.equal((await c.command("EHLO client.example.org")).code, 250);
    assert.equal((await c.command(`MAIL FROM:<${mail.from}>`)).code, 250);
    const rcpts: Reply[] = [];
    for (const to of mail.to) rcpts.push(await c.command(`RCPT TO:<${to}>`));
    if (rcpts.some((r) => r.code !== 250)) return { rcpts };
    assert.equal((await c.command("DATA")).code, 354);
    const final = await c.data(simpleMessage({ from: mail.from || "postmaster@sender.test", to: mail.to[0]!, subject: "greylist test" }));
    return { rcpts, final };
  } finally {
    await c.quit();
  }
}

/** Moves a triplet's first attempt (and expiry) `seconds` into the past, as if the client retried that much later. */
async function age(network: string, seconds: number): Promise<void> {
  await world.db.query(
    `UPDATE greylist_triplets SET first_seen = first_seen - $2 * interval '1 second', expires_at = expires_at - $2 * interval '1 second' WHERE network = $1`,
    [network, seconds],
  );
}

async function outcomes(registry: Registry): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await metricSamples(registry, "postline_inbound_mx_greylist_total")) out[String(s.labels.result)] = s.value;
  return out;
}

describe("client networks", () => {
  test("IPv4 /24, IPv6 /64, v4-mapped addresses as IPv4", () => {
    assert.equal(clientNetwork("192.0.2.77"), "192.0.2.0/24");
    assert.equal(clientNetwork("::ffff:192.0.2.77"), "192.0.2.0/24");
    assert.equal(clientNetwork("2001:db8:0:12:a::1"), "2001:db8:0:12::/64");
    assert.equal(clientNetwork("2001:DB8::1"), "2001:db8:0:0::/64");
    assert.equal(clientNetwork("::1"), "0:0:0:0::/64");
  });

  test("exempt lists: CIDR and single addresses; private networks only when asked", () => {
    const list = networkList(["198.51.100.0/24", "2001:db8::/32", "203.0.113.9"], true);
    assert.ok(list.check("198.51.100.200", "ipv4"));
    assert.ok(list.check("203.0.113.9", "ipv4"));
    assert.ok(!list.check("203.0.113.10", "ipv4"));
    assert.ok(list.check("2001:db8:ffff::1", "ipv6"));
    assert.ok(list.check("10.1.2.3", "ipv4"));
    assert.ok(list.check("::1", "ipv6"));
    assert.ok(!networkList([], false).check("127.0.0.1", "ipv4"));
    assert.throws(() => parseMxSettings({ POSTLINE_GREYLIST_EXEMPT_NETWORKS: "192.0.2.0/33" }), /POSTLINE_GREYLIST_EXEMPT_NETWORKS: bad prefix length/);
    assert.throws(() => parseMxSettings({ POSTLINE_GREYLIST_EXEMPT_NETWORKS: "mail.example.com" }), /POSTLINE_GREYLIST_EXEMPT_NETWORKS: not a network/);
  });

  test("settings: off by default, Postgrey-like timings", () => {
    const s = parseMxSettings({});
    assert.equal(s.POSTLINE_GREYLIST, false);
    assert.equal(s.POSTLINE_GREYLIST_DELAY, 300);
    assert.equal(s.POSTLINE_GREYLIST_RETRY_WINDOW, 2 * 86400);
    assert.equal(s.POSTLINE_GREYLIST_REMEMBER, 35 * 86400);
    assert.equal(s.POSTLINE_GREYLIST_AUTO_ALLOW_AFTER, 5);
    assert.equal(s.POSTLINE_GREYLIST_EXEMPT_PRIVATE, true);
    assert.equal(s.POSTLINE_GREYLIST_FAIL_OPEN, true);
  });
});

describe("greylisting at RCPT", () => {
  before(async () => {
    mx = await world.start(GREYLIST_ENV);
  });
  after(async () => {
    await mx?.stop();
  });

  test("off by default: accepted at once, nothing recorded", async () => {
    const plain = await world.start();
    try {
      const r = await attempt(plain.port, "127.0.1.1", { from: "a@sender.test", to: ["user@example.test"] });
      assert.equal(r.final?.code, 250);
      const rows = await world.db.query("SELECT 1 FROM greylist_triplets WHERE network = '127.0.1.0/24'");
      assert.equal(rows.rowCount, 0);
    } finally {
      await plain.stop();
    }
  });

  test("first attempt 451 4.7.1, an early retry 451 again, a retry after the delay passes and is remembered", async () => {
    const before = await outcomes(mx.registry);
    const mail = { from: "Alice@Sender.test", to: ["user@example.test"] };
    const first = await attempt(mx.port, "127.0.2.1", mail);
    assert.equal(first.rcpts[0]!.code, 451);
    assert.match(first.rcpts[0]!.raw, /^451 4\.7\.1 <user@example\.test>: Recipient address rejected: Greylisted, please try again in (299|300) seconds$/);

    // from another address of the same /24, a little later: still too early
    await age("127.0.2.0/24", 100);
    const early = await attempt(mx.port, "127.0.2.2", mail);
    assert.equal(early.rcpts[0]!.code, 451);
    assert.match(early.rcpts[0]!.raw, /try again in (199|200) seconds/);

    await age("127.0.2.0/24", 201);
    const retry = await attempt(mx.port, "127.0.2.1", { from: "alice@sender.test", to: ["USER@example.test"] });
    assert.equal(retry.rcpts[0]!.code, 250, "the triplet is matched case-insensitively");
    assert.equal(retry.final?.code, 250);

    const again = await attempt(mx.port, "127.0.2.3", mail);
    assert.equal(again.final?.code, 250, "the passed triplet is let through at once");

    const row = await world.db.query<{ attempts: number; remembered_days: number; passed: boolean }>(
      `SELECT attempts, passed_at IS NOT NULL AS passed, round(extract(epoch FROM expires_at - now()) / 86400)::int AS remembered_days
         FROM greylist_triplets WHERE network = '127.0.2.0/24' AND sender = 'alice@sender.test' AND recipient = 'user@example.test'`,
    );
    assert.deepEqual(row.rows, [{ attempts: 3, passed: true, remembered_days: 35 }], "the third attempt passed; the fourth came from the cache");
    const after = await outcomes(mx.registry);
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    assert.deepEqual([delta("greylisted_new"), delta("greylisted_early"), delta("passed_retry"), delta("cached")], [1, 1, 1, 1]);
    const rejections = await metricSamples(mx.registry, "postline_inbound_mx_rejections_total");
    assert.ok(rejections.some((s) => s.labels.reason === "greylisted" && s.value >= 2));
  });

  test("a retry after the retry window is greylisted anew", async () => {
    const mail = { from: "late@sender.test", to: ["other@example.test"] };
    assert.equal((await attempt(mx.port, "127.0.3.1", mail)).rcpts[0]!.code, 451);
    await age("127.0.3.0/24", 2 * 86400 + 10);
    const late = await attempt(mx.port, "127.0.3.1", mail);
    assert.equal(late.rcpts[0]!.code, 451);
    assert.match(late.rcpts[0]!.raw, /try again in (299|300) seconds/, "a new round: the full delay again");
  });

  test("never greylists what is refused anyway: unknown user 550, relaying 554, no triplet stored", async () => {
    const unknown = await attempt(mx.port, "127.0.4.1", { from: "x@sender.test", to: ["nobody@example.test"] });
    assert.equal(unknown.rcpts[0]!.code, 550);
    const relay = await attempt(mx.port, "127.0.4.1", { from: "x@sender.test", to: ["someone@elsewhere.test"] });
    assert.equal(relay.rcpts[0]!.code, 554);
    const rows = await world.db.query("SELECT 1 FROM greylist_triplets WHERE network = '127.0.4.0/24'");
    assert.equal(rows.rowCount, 0);
  });

  test("the null sender is a sender of its own (bounces are greylisted too)", async () => {
    const bounce = await attempt(mx.port, "127.0.5.1", { from: "", to: ["user@example.test"] });
    assert.equal(bounce.rcpts[0]!.code, 451);
    const rows = await world.db.query<{ sender: string }>("SELECT sender FROM greylist_triplets WHERE network = '127.0.5.0/24'");
    assert.deepEqual(rows.rows, [{ sender: "" }]);
  });

  test("a network whose triplets passed AUTO_ALLOW_AFTER times is not greylisted any more", async () => {
    const allowing = await world.start({ ...GREYLIST_ENV, POSTLINE_GREYLIST_AUTO_ALLOW_AFTER: "2" });
    try {
      for (const to of ["user@example.test", "other@example.test"]) {
        assert.equal((await attempt(allowing.port, "127.0.6.1", { from: "list@sender.test", to: [to] })).rcpts[0]!.code, 451);
        await age("127.0.6.0/24", 301);
        assert.equal((await attempt(allowing.port, "127.0.6.1", { from: "list@sender.test", to: [to] })).final?.code, 250);
      }
      const net = await world.db.query<{ passes: number }>("SELECT passes FROM greylist_networks WHERE network = '127.0.6.0/24'");
      assert.deepEqual(net.rows, [{ passes: 2 }]);
      // a new sender and recipient from another address of the network: passes at once
      const fresh = await attempt(allowing.port, "127.0.6.99", { from: "someone-new@other.test", to: ["team@example.test"] });
      assert.equal(fresh.final?.code, 250);
      assert.equal((await outcomes(allowing.registry)).auto_allowed, 1);
      // ...but another network is still greylisted
      assert.equal((await attempt(allowing.port, "127.0.7.1", { from: "someone-new@other.test", to: ["team@example.test"] })).rcpts[0]!.code, 451);
    } finally {
      await allowing.stop();
    }
  });

  test("exempt: listed networks, and loopback/private clients by default", async () => {
    const listed = await world.start({ ...GREYLIST_ENV, POSTLINE_GREYLIST_EXEMPT_NETWORKS: "127.0.8.0/24, 127.0.9.9" });
    const defaults = await world.start({ POSTLINE_GREYLIST: "true" });
    try {
      assert.equal((await attempt(listed.port, "127.0.8.200", { from: "p@partner.test", to: ["user@example.test"] })).final?.code, 250);
      assert.equal((await attempt(listed.port, "127.0.9.9", { from: "p@partner.test", to: ["user@example.test"] })).final?.code, 250);
      assert.equal((await attempt(listed.port, "127.0.9.10", { from: "p@partner.test", to: ["user@example.test"] })).rcpts[0]!.code, 451);
      assert.equal((await attempt(defaults.port, "127.0.10.1", { from: "p@partner.test", to: ["user@example.test"] })).final?.code, 250);
      assert.equal((await outcomes(listed.registry)).exempt, 2);
      assert.equal((await outcomes(defaults.registry)).exempt, 1);
    } finally {
      await listed.stop();
      await defaults.stop();
    }
  });

  test("shared by replicas: greylisted by one MX, the retry passes on another", async () => {
    const other = await world.start(GREYLIST_ENV);
    try {
      const mail = { from: "shared@sender.test", to: ["user@example.test"] };
      assert.equal((await attempt(mx.port, "127.0.11.1", mail)).rcpts[0]!.code, 451);
      assert.equal((await attempt(other.port, "127.0.11.1", mail)).rcpts[0]!.code, 451, "the other replica knows it is too early");
      await age("127.0.11.0/24", 301);
      assert.equal((await attempt(other.port, "127.0.11.1", mail)).final?.code, 250);
    } finally {
      await other.stop();
    }
  });

  test("IPv6 clients are keyed by their /64 (through a PROXY header)", async () => {
    const proxied = await world.start({ ...GREYLIST_ENV, POSTLINE_MX_PROXY_PROTOCOL: "true" });
    try {
      const send = async (source: string) => {
        const c = await SmtpClient.connectWith(proxied.port, `PROXY TCP6 ${source} ::1 40000 25\r\n`);
        try {
          assert.equal((await c.read()).code, 220);
          await c.command("EHLO v6.sender.test");
          await c.command("MAIL FROM:<v6@sender.test>");
          return await c.command("RCPT TO:<user@example.test>");
        } finally {
          await c.quit();
        }
      };
      assert.equal((await send("2001:db8:5:6::1")).code, 451);
      await age("2001:db8:5:6::/64", 301);
      assert.equal((await send("2001:db8:5:6:ffff::2")).code, 250, "another address of the same /64");
      assert.equal((await send("2001:db8:5:7::1")).code, 451, "another /64 is another client");
    } finally {
      await proxied.stop();
    }
  });

  test("database failure: fail open lets the recipient through, fail closed answers 451 4.3.0", async () => {
    const closed = await world.start({ ...GREYLIST_ENV, POSTLINE_GREYLIST_FAIL_OPEN: "false" });
    await world.db.query("ALTER TABLE greylist_triplets RENAME TO greylist_triplets_away");
    try {
      const open = await attempt(mx.port, "127.0.12.1", { from: "f@sender.test", to: ["user@example.test"] });
      assert.equal(open.final?.code, 250);
      const shut = await attempt(closed.port, "127.0.12.1", { from: "f@sender.test", to: ["user@example.test"] });
      assert.equal(shut.rcpts[0]!.code, 451);
      assert.match(shut.rcpts[0]!.raw, /^451 4\.3\.0 /);
      assert.ok(((await outcomes(mx.registry)).error_fail_open ?? 0) >= 1);
      assert.equal((await outcomes(closed.registry)).error_fail_closed, 1);
    } finally {
      await world.db.query("ALTER TABLE greylist_triplets_away RENAME TO greylist_triplets");
      await closed.stop();
    }
  });
});

describe("pruning", () => {
  test("expired triplets and networks are deleted, live ones kept", async () => {
    const db = world.db;
    await db.query(
      `INSERT INTO greylist_triplets (network, sender, recipient, first_seen, last_seen, expires_at)
       VALUES ('198.51.100.0/24', 'old@x.test', 'user@example.test', now() - interval '40 days', now() - interval '40 days', now() - interval '5 days'),
              ('198.51.100.0/24', 'new@x.test', 'user@example.test', now(), now(), now() + interval '1 day')`,
    );
    await db.query(`INSERT INTO greylist_networks (network, passes, last_pass, expires_at) VALUES ('198.51.100.0/24', 3, now() - interval '40 days', now() - interval '5 days')`);
    const registry = new Registry();
    const greylist = new Greylist(db, { delaySeconds: 300, retryWindowSeconds: 86400, rememberSeconds: 35 * 86400, autoAllowAfter: 5, exemptNetworks: [], exemptPrivate: false, failOpen: true }, greylistCounter(registry));
    assert.ok((await greylist.prune()) >= 2);
    const left = await db.query<{ sender: string }>("SELECT sender FROM greylist_triplets WHERE network = '198.51.100.0/24'");
    assert.deepEqual(left.rows, [{ sender: "new@x.test" }]);
    assert.equal((await db.query("SELECT 1 FROM greylist_networks WHERE network = '198.51.100.0/24'")).rowCount, 0);
  });
});
