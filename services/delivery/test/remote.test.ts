import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { simpleParser } from "mailparser";
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from "smtp-server";
import { addDomain, createAccount } from "@postline/directory";
import { startDnsServer, freePort, type DnsServer } from "@postline/testkit";
import { eventually, readAll, startHarness, storedBytes, type Harness } from "./harness.ts";

// The remote part in the service, on a real database, against real SMTP servers on loopback found
// through a real DNS server (dnsmasq).

interface Received {
  from: string;
  to: string[];
  data: Buffer;
}

/** What a receiver answers; each hook gets the number of the transaction (1-based). */
interface Behaviour {
  rcpt?: (address: string, n: number) => { code: number; message: string } | null;
  data?: (n: number) => { code: number; message: string } | null;
  /** Delay before answering the end of data. */
  dataDelayMs?: number;
}

class Receiver {
  readonly received: Received[] = [];
  transactions = 0;
  private server!: SMTPServer;

  constructor(
    readonly address: string,
    private readonly behaviour: Behaviour = {},
  ) {}

  async listen(port: number): Promise<void> {
    const b = this.behaviour;
    const smtpError = (e: { code: number; message: string }) => Object.assign(new Error(e.message), { responseCode: e.code });
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ["AUTH", "STARTTLS"],
      logger: false,
      onMailFrom: (_a: SMTPServerAddress, _s: SMTPServerSession, cb: (err?: Error | null) => void) => {
        this.transactions++;
        cb();
      },
      onRcptTo: (a: SMTPServerAddress, _s: SMTPServerSession, cb: (err?: Error | null) => void) => {
        const e = b.rcpt?.(a.address, this.transactions);
        cb(e ? smtpError(e) : null);
      },
      onData: (stream, session, cb) => {
        void readAll(stream).then(async (data) => {
          if (b.dataDelayMs) await new Promise((r) => setTimeout(r, b.dataDelayMs));
          const e = b.data?.(this.transactions);
          if (e) return cb(smtpError(e));
          this.received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), data });
          cb(null, "2.0.0 Ok: queued as R" + this.received.length);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, this.address, () => resolve());
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const PASSWORD = "a long enough test password";
let dns: DnsServer;
let h: Harness;
let smtpPort: number;
const receivers: Record<string, Receiver> = {
  ok: new Receiver("127.0.0.21"),
  flaky: new Receiver("127.0.0.22", { data: (n) => (n === 1 ? { code: 451, message: "4.3.0 try again later" } : null) }),
  refuses: new Receiver("127.0.0.23", { rcpt: (a) => (a.startsWith("nobody@") ? { code: 550, message: "5.1.1 <" + a + ">: no such user" } : null) }),
  never: new Receiver("127.0.0.24", { data: () => ({ code: 452, message: "4.2.2 mailbox full" }) }),
  slow: new Receiver("127.0.0.25", { dataDelayMs: 1500 }),
};

before(async () => {
  const port = (smtpPort = await freePort());
  dns = await startDnsServer({
    hosts: {
      "mx.ok.example": "127.0.0.21",
      "mx.flaky.example": "127.0.0.22",
      "mx.refuses.example": "127.0.0.23",
      "mx.never.example": "127.0.0.24",
      "mx.slow.example": "127.0.0.25",
      "noname.example": "127.0.0.21",
    },
    mx: {
      "ok.example": [{ host: "mx-down.ok.example", preference: 5 }, { host: "mx.ok.example", preference: 10 }],
      "flaky.example": "mx.flaky.example",
      "refuses.example": "mx.refuses.example",
      "never.example": "mx.never.example",
      "slow.example": "mx.slow.example",
      "nullmx.example": [{ host: ".", preference: 0 }],
    },
    addresses: { "mx-down.ok.example": "127.0.0.29" },
  });
  for (const r of Object.values(receivers)) await r.listen(port);
  h = await startHarness({
    POSTLINE_DNS_SERVERS: dns.address,
    POSTLINE_DELIVERY_SMTP_PORT: String(port),
    POSTLINE_HOSTNAME: "out.postline.test",
    POSTLINE_DELIVERY_RETRY_SCHEDULE: "1s",
    POSTLINE_DELIVERY_LEASE_SECONDS: "3",
    POSTLINE_DELIVERY_SWEEP_SECONDS: "1",
    POSTLINE_DELIVERY_DESTINATION_CONCURRENCY: "2",
  });
  await addDomain(h.t.db, "example.test");
  await createAccount(h.t.db, { address: "alice@example.test", password: PASSWORD });
});

after(async () => {
  await h?.close();
  for (const r of Object.values(receivers)) await r.close().catch(() => {});
  await dns?.stop();
});

const message = (id: string, extra = "") =>
  `From: Alice <alice@example.test>\r\nTo: someone\r\nSubject: outbound ${id}\r\nMessage-ID: <${id}@example.test>\r\n${extra}\r\nHello from ${id}.\r\n`;

interface Row {
  recipient: string;
  status: string;
  attempts: number;
  last_error: string | null;
  remote_reply: string | null;
  remote_host: string | null;
  resends: number;
  dsn_mail_id: string | null;
}

async function rows(mailId: string): Promise<Row[]> {
  return (
    await h.t.db.query<Row>(
      "SELECT recipient, status, attempts, last_error, remote_reply, remote_host, resends, dsn_mail_id FROM deliveries WHERE mail_id = $1 AND domain IS NOT NULL ORDER BY recipient",
      [mailId],
    )
  ).rows;
}

const settled = (mailId: string, statuses = ["delivered", "bounced"]) =>
  eventually(async () => {
    const r = await rows(mailId);
    return r.length > 0 && r.every((x) => statuses.includes(x.status)) ? r : undefined;
  }, `${mailId} settled`, 20_000);

/** The messages in alice's INBOX (DSNs come back there), parsed. */
async function inbox() {
  const r = await h.t.db.query<{ blob_hash: string; header_prefix: Uint8Array | null }>(
    "SELECT m.blob_hash, m.header_prefix FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id WHERE a.address = 'alice@example.test' AND b.name = 'INBOX' ORDER BY m.uid",
  );
  return Promise.all(r.rows.map(async (row) => simpleParser(await storedBytes(h.blobs, row))));
}

describe("remote delivery", () => {
  test("to the MX by preference, past a host that is down; the bytes arrive as stored", async () => {
    const raw = message("ok1");
    const event = await h.send(raw, { rcptTo: ["bob@ok.example", "carol@OK.example"], source: "submission", mailFrom: "alice@example.test" });
    const r = await settled(event.id);
    assert.deepEqual(r.map((x) => [x.recipient, x.status, x.attempts]), [["bob@ok.example", "delivered", 1], ["carol@ok.example", "delivered", 1]]);
    assert.match(r[0]!.remote_reply!, /^250 2\.0\.0 Ok: queued as R\d+/);
    assert.match(r[0]!.remote_host!, /mx\.ok\.example \[127\.0\.0\.21\]/);
    const got = receivers.ok!.received.find((m) => m.data.toString().includes("ok1@example.test"))!;
    assert.equal(got.data.toString(), raw, "the message as received, byte for byte");
    assert.equal(got.from, "alice@example.test");
    assert.deepEqual(got.to.sort(), ["bob@ok.example", "carol@ok.example"], "one transaction for both recipients at the domain");
    // Every remote recipient final: the outbound row gives its blob reference back.
    const o = await h.t.db.query<{ holds_blob: boolean }>("SELECT holds_blob FROM outbound_messages WHERE mail_id = $1", [event.id]);
    assert.equal(o.rows[0]!.holds_blob, false);
  });

  test("a temporary failure is deferred and retried through the retry topic", async () => {
    const event = await h.send(message("flaky1"), { rcptTo: ["dan@flaky.example"], source: "submission", mailFrom: "alice@example.test" });
    const deferred = await eventually(async () => (await rows(event.id)).find((x) => x.status === "deferred" || x.attempts >= 2), "deferred", 10_000);
    if (deferred.status === "deferred") assert.match(deferred.last_error!, /^451 4\.3\.0 try again later/);
    const [r] = await settled(event.id);
    assert.equal(r!.status, "delivered");
    assert.equal(r!.attempts, 2);
    assert.equal(r!.last_error, null);
    assert.equal(receivers.flaky!.received.length, 1);
  });

  test("a permanent failure bounces: a DSN reaches the sender's INBOX; the other recipient is delivered", async () => {
    const event = await h.send(message("bounce1"), {
      rcptTo: ["nobody@refuses.example", "someone@refuses.example"],
      source: "submission",
      mailFrom: "alice@example.test",
    });
    const r = await settled(event.id);
    assert.deepEqual(r.map((x) => [x.recipient, x.status]), [["nobody@refuses.example", "bounced"], ["someone@refuses.example", "delivered"]]);
    assert.match(r[0]!.last_error!, /^550 5\.1\.1 <nobody@refuses\.example>: no such user/);
    assert.ok(r[0]!.dsn_mail_id);
    const dsn = await eventually(async () => (await inbox()).find((m) => m.subject?.startsWith("Undelivered")), "the DSN in the INBOX", 15_000);
    assert.match(String(dsn.headers.get("content-type") && (dsn.headers.get("content-type") as { value: string }).value), /multipart\/report/);
    const dsnRow = (await h.t.db.query<{ blob_hash: string; header_prefix: Uint8Array | null }>("SELECT blob_hash, header_prefix FROM messages WHERE mail_id = $1", [r[0]!.dsn_mail_id])).rows[0]!;
    const text = (await storedBytes(h.blobs, dsnRow)).toString();
    assert.match(text, /^Return-Path: <>/m, "from the null sender");
    assert.match(text, /report-type="?delivery-status"?/);
    assert.match(text, /^Final-Recipient: rfc822; ?nobody@refuses\.example/m);
    assert.match(text, /^Action: failed/m);
    assert.match(text, /^Status: 5\.1\.1/m);
    assert.match(text, /^Remote-MTA: dns; ?mx\.refuses\.example/m);
    assert.match(text, /^Diagnostic-Code: smtp; ?550 5\.1\.1/m);
    assert.match(text, /Message-ID: <bounce1@example\.test>/, "the original is attached");
    assert.doesNotMatch(text, /^Final-Recipient: rfc822; ?someone@/m, "only the failed recipient is reported");
  });

  test("null MX: bounced at once, nothing sent", async () => {
    const event = await h.send(message("nullmx1"), { rcptTo: ["x@nullmx.example"], source: "submission", mailFrom: "alice@example.test" });
    const [r] = await settled(event.id);
    assert.equal(r!.status, "bounced");
    assert.match(r!.last_error!, /null MX/);
    assert.equal(r!.attempts, 1);
  });

  test("never bounce a bounce: a failing message from the null sender gets no DSN", async () => {
    const event = await h.send(message("nullsender1"), { rcptTo: ["nobody@refuses.example"], source: "dsn", mailFrom: "" });
    const [r] = await settled(event.id);
    assert.equal(r!.status, "bounced");
    assert.equal(r!.dsn_mail_id, null);
  });

  test("a recipient that keeps failing is bounced when its lifetime runs out, after a delay notice", async () => {
    const h2 = await startHarness({
      POSTLINE_DNS_SERVERS: dns.address,
      POSTLINE_DELIVERY_SMTP_PORT: String(smtpPort),
      POSTLINE_HOSTNAME: "out.postline.test",
      POSTLINE_DELIVERY_RETRY_SCHEDULE: "1s",
      POSTLINE_DELIVERY_MAX_LIFETIME: "4s",
      POSTLINE_DELIVERY_DELAY_WARNING: "1s",
      POSTLINE_DELIVERY_SWEEP_SECONDS: "1",
    });
    try {
      await addDomain(h2.t.db, "example.test");
      await createAccount(h2.t.db, { address: "alice@example.test", password: PASSWORD });
      const event = await h2.send(message("never1"), { rcptTo: ["eve@never.example"], source: "submission", mailFrom: "alice@example.test" });
      const r = await eventually(async () => {
        const x = (await h2.t.db.query<Row & { delay_notified_at: Date | null }>("SELECT *, delay_notified_at FROM deliveries WHERE mail_id = $1", [event.id])).rows[0];
        return x?.status === "bounced" ? x : undefined;
      }, "bounced after its lifetime", 20_000);
      assert.ok(r.attempts >= 2, `attempts ${r.attempts}`);
      assert.match(r.last_error!, /452 4\.2\.2 mailbox full/);
      assert.ok(r.delay_notified_at, "a delay notice went out first");
      const subjects = await eventually(async () => {
        const s = (
          await h2.t.db.query<{ subject: string }>(
            "SELECT m.envelope->>'subject' AS subject FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.name = 'INBOX' ORDER BY m.uid",
          )
        ).rows.map((x) => x.subject);
        return s.length >= 2 ? s : undefined;
      }, "two notices", 15_000);
      assert.equal(subjects.length, 2, subjects.join(" | "));
      assert.match(subjects[0]!, /Delayed/);
      assert.match(subjects[1]!, /Undelivered/);
    } finally {
      await h2.close();
    }
  });

  test("a slow destination does not hold up the others", async () => {
    const slowIds = [];
    for (let i = 0; i < 6; i++) slowIds.push((await h.send(message(`slow${i}`), { rcptTo: [`s${i}@slow.example`], source: "submission", mailFrom: "alice@example.test" })).id);
    const fast = await h.send(message("fast1"), { rcptTo: ["f@ok.example"], source: "submission", mailFrom: "alice@example.test" });
    await settled(fast.id);
    const slowDone = (await Promise.all(slowIds.map(rows))).flat().filter((x) => x.status === "delivered").length;
    // Two sessions at once to slow.example, 1.5 s for each message: at most two can be done by now.
    assert.ok(slowDone <= 2, `${slowDone} slow ones were done before the fast one`);
    for (const id of slowIds) await settled(id);
  });

  test("a recipient owned by a process that died mid-transaction is taken over and the re-send counted", async () => {
    const event = await h.send(message("orphan1"), { rcptTo: ["bob@ok.example"], source: "submission", mailFrom: "alice@example.test" });
    await settled(event.id);
    // The same state a SIGKILL leaves behind: owned by a process that is gone, a transaction under way.
    await h.t.db.query(
      `UPDATE deliveries SET status = 'queued', lease_owner = 'dead/1/x', lease_expires = now() - interval '1 second',
              sending_since = now() - interval '5 seconds', next_attempt_at = now() - interval '10 seconds'
        WHERE mail_id = $1`,
      [event.id],
    );
    await h.t.db.query("UPDATE outbound_messages SET holds_blob = true WHERE mail_id = $1", [event.id]);
    const [r] = await settled(event.id);
    assert.equal(r!.status, "delivered");
    assert.equal(r!.resends, 1);
    assert.equal(receivers.ok!.received.filter((m) => m.data.toString().includes("orphan1@")).length, 2, "sent again: at least once, the re-send recorded");
  });
});
