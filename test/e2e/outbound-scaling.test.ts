import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { freeSharedPort, simpleMessage, startSlowProxy, startSmtpSink, type SinkMessage, type SlowProxy, type SmtpSink } from "@postline/testkit";
import { SENDER_DOMAIN, startOutbound, waitFor, type OutboundWorld } from "./support/outbound.ts";

// Horizontal scaling of remote delivery: three delivery processes in one consumer group, 2,000
// messages to 20 destination domains (100 each), 19 fast receivers (smtp-sink) and one slow one
// (every reply 5 s late, through a delaying proxy), one delivery process killed with SIGKILL once
// about half is delivered. Mail enters as `mail.submitted` events with stored blobs (what submission
// publishes; submitting 2,000 messages over SMTP takes minutes on a loaded 2-core machine), so the
// spam filter and delivery run their real path.

const PER_DOMAIN = 100;
const FAST = Array.from({ length: 19 }, (_, i) => ({ domain: `d${String(i + 1).padStart(2, "0")}.test`, address: `127.0.0.${10 + i}` }));
const SLOW = { domain: "slow.test", address: "127.0.0.6", behind: "127.0.0.7" };
const SLOW_DELAY_MS = 5000;
const TOTAL = PER_DOMAIN * (FAST.length + 1);

let world: OutboundWorld;
const sinks = new Map<string, SmtpSink>();
let slowSink: SmtpSink;
let proxy: SlowProxy;

before(async () => {
  const port = await freeSharedPort([...FAST.map((f) => f.address), SLOW.address, SLOW.behind]);
  for (const f of FAST) sinks.set(f.domain, await startSmtpSink({ address: f.address, port, hostname: `mx.${f.domain}` }));
  slowSink = await startSmtpSink({ address: SLOW.behind, port, hostname: `mx.${SLOW.domain}` });
  proxy = await startSlowProxy({ address: SLOW.address, port, target: { address: SLOW.behind, port }, delayMs: SLOW_DELAY_MS });
  world = await startOutbound({
    smtpPort: port,
    dkim: false,
    deliveryProcesses: 3,
    destinations: Object.fromEntries([...FAST, SLOW].map((d) => [d.domain, { host: `mx.${d.domain}`, address: d.address }])),
    env: {
      POSTLINE_SPAM_OUTBOUND_PER_HOUR: "0",
      POSTLINE_SPAM_OUTBOUND_PER_MINUTE: "0",
      POSTLINE_SPAM_OUTBOUND_RCPTS_PER_HOUR: "0",
      // Enough sessions that the slow destination (about 4 replies of 5 s a message) is through in
      // about a minute with two processes left; the fast ones are not held up by it either way.
      POSTLINE_DELIVERY_DESTINATION_CONCURRENCY: "20",
      POSTLINE_DELIVERY_OUTBOUND_CONCURRENCY: "100",
      POSTLINE_DELIVERY_SMTP_TIMEOUT_SECONDS: "60",
      // The slow receiver's greeting comes 5 s late too.
      POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS: "30",
      POSTLINE_BUS_PARTITIONS: "12",
    },
  });
});

after(async () => {
  await world?.stop();
  await proxy?.stop();
  await slowSink?.stop();
  for (const s of sinks.values()) await s.stop();
});

const messageIdOf = (m: SinkMessage) => /^Message-ID:\s*(<[^>]+>)/im.exec(m.message)?.[1];

async function progress(): Promise<string> {
  const r = await world.database.db.query<{ domain: string; status: string; n: number; sending: number; leased: number }>(
    `SELECT domain, status, count(*)::int AS n, count(sending_since)::int AS sending, count(lease_owner)::int AS leased
       FROM deliveries WHERE domain IS NOT NULL AND status <> 'delivered' GROUP BY domain, status ORDER BY domain`,
  );
  return JSON.stringify(r.rows);
}

/** What the delivery processes logged about the recipients not delivered yet. */
async function logsAboutUndelivered(): Promise<string> {
  const ids = new Set((await world.deliveries("status <> 'delivered'")).map((r) => r.mail_id));
  return world.delivery
    .flatMap((p) => p.logs.filter((l) => ids.has(l.mailId as string)).map((l) => `[pid ${p.child.pid}] ${JSON.stringify(l)}`))
    .slice(0, 60)
    .join("\n");
}

async function statusCounts(): Promise<Record<string, number>> {
  const r = await world.database.db.query<{ status: string; n: number }>("SELECT status, count(*)::int AS n FROM deliveries WHERE domain IS NOT NULL GROUP BY status");
  return Object.fromEntries(r.rows.map((x) => [x.status, x.n]));
}

test("3 delivery processes, 2,000 messages to 20 domains, one slow, one process killed halfway: everything arrives, the slow one does not hold up the rest", { timeout: 300_000 }, async () => {
  const messages: Array<{ raw: string; mailFrom: string; rcptTo: string[] }> = [];
  // Interleaved: the slow domain's mail is spread through the stream, as it would be in real traffic.
  for (let i = 0; i < PER_DOMAIN; i++) {
    for (const d of [...FAST, SLOW]) {
      const to = `user${i}@${d.domain}`;
      messages.push({
        raw: simpleMessage({ from: `alice@${SENDER_DOMAIN}`, to, subject: `scaling ${d.domain} ${i}`, headers: { "Message-ID": `<scale-${i}-${d.domain}@${SENDER_DOMAIN}>` }, body: `Message ${i} to ${d.domain}.\r\n` }),
        mailFrom: `alice@${SENDER_DOMAIN}`,
        rcptTo: [to],
      });
    }
  }
  const started = Date.now();
  const ids = await world.publishSubmitted(messages);
  console.log(`published ${ids.length} mail.submitted events in ${Date.now() - started} ms`);
  assert.equal(ids.length, TOTAL);

  // Halfway: kill one process while it has mail in flight.
  await waitFor("half of the mail delivered", async () => ((await statusCounts()).delivered ?? 0) >= TOTAL / 2, 180_000, async () => `${JSON.stringify(await statusCounts())}\n${world.deliveryLogs()}`);
  const owners = await world.database.db.query<{ lease_owner: string; n: number; sending: number }>(
    "SELECT lease_owner, count(*)::int AS n, count(sending_since)::int AS sending FROM deliveries WHERE lease_owner IS NOT NULL AND status IN ('queued', 'deferred') GROUP BY lease_owner",
  );
  console.log(`half delivered after ${Date.now() - started} ms`);
  const victim = world.delivery[1]!;
  assert.equal(await victim.stop("SIGKILL"), "SIGKILL");
  console.log(`killed delivery-2 (pid ${victim.child.pid}) at ${JSON.stringify(await statusCounts())}; leases then: ${JSON.stringify(owners.rows)}`);

  const ticker = setInterval(() => void progress().then((p) => console.log(`${new Date().toISOString()} not yet delivered: ${p}`)), 15_000);
  ticker.unref();
  await waitFor(
    "every recipient delivered",
    async () => ((await statusCounts()).delivered ?? 0) === TOTAL,
    240_000,
    async () =>
      `${JSON.stringify(await statusCounts())} at ${new Date().toISOString()}; delivery pids ${world.delivery.map((p) => p.child.pid).join(", ")} (killed ${victim.child.pid})\n` +
      `${JSON.stringify((await world.deliveries("status <> 'delivered'")).slice(0, 10))}\n${await logsAboutUndelivered()}`,
  );
  clearInterval(ticker);
  const rows = await world.deliveries("domain IS NOT NULL");
  assert.equal(rows.length, TOTAL, "one deliveries row per recipient");
  assert.deepEqual([...new Set(rows.map((r) => r.status))], ["delivered"]);

  // What the receivers got: every message at least once; more than once only if it was in flight.
  const received = new Map<string, { copies: number; at: number[] }>();
  const arrivals = new Map<string, number[]>();
  for (const [domain, sink] of [...sinks, [SLOW.domain, slowSink] as const]) {
    const got = sink.messages();
    arrivals.set(domain, got.map((m) => m.mtimeMs));
    for (const m of got) {
      const id = messageIdOf(m);
      assert.ok(id, `a message without Message-ID at ${domain}: ${m.message.slice(0, 300)}`);
      const seen = received.get(id) ?? { copies: 0, at: [] };
      seen.copies++;
      seen.at.push(m.mtimeMs);
      received.set(id, seen);
    }
  }
  const missing = messages.map((m) => /^Message-ID: (<[^>]+>)/m.exec(m.raw)![1]!).filter((id) => !received.has(id));
  assert.deepEqual(missing, [], "no message is lost");
  assert.equal(received.size, TOTAL);
  const byRecipient = new Map(rows.map((r) => [r.recipient, r]));
  let duplicates = 0;
  for (const [id, seen] of received) {
    if (seen.copies === 1) continue;
    duplicates += seen.copies - 1;
    const [, i, domain] = /^<scale-(\d+)-(.+)@/.exec(id)!;
    const row = byRecipient.get(`user${i}@${domain}`)!;
    assert.ok(row.resends >= seen.copies - 1, `${id} arrived ${seen.copies} times but its row records ${row.resends} resends`);
  }
  const resends = rows.reduce((n, r) => n + r.resends, 0);
  console.log(`received ${received.size} distinct messages, ${duplicates} duplicate copies, ${resends} resends recorded`);
  assert.ok(duplicates <= resends, "every duplicate is a recorded resend of a message that was in flight");

  // No head-of-line blocking: every fast destination was through before the slow one was.
  const lastAt = (domain: string) => Math.max(...arrivals.get(domain)!);
  const slowLast = lastAt(SLOW.domain);
  for (const f of FAST) {
    assert.equal(arrivals.get(f.domain)!.length >= PER_DOMAIN, true, `${f.domain} got all its mail`);
    assert.ok(lastAt(f.domain) < slowLast, `${f.domain} finished before ${SLOW.domain}`);
  }
  const fastLast = Math.max(...FAST.map((f) => lastAt(f.domain)));
  const slowAfter = arrivals.get(SLOW.domain)!.filter((t) => t > fastLast).length;
  console.log(`fast destinations done ${((slowLast - fastLast) / 1000).toFixed(1)} s before the slow one; ${slowAfter} of its messages arrived after that`);
  assert.ok(proxy.connections() > 1, "the slow destination was served over several sessions at once");
});
