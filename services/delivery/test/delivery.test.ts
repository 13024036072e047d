import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { FastifyInstance } from "fastify";
import { buildAdminApi } from "@postline/admin-api";
import { addAlias, addDomain, createAccount } from "@postline/directory";
import { newMailId } from "@postline/events";
import { removeMessages } from "@postline/mailstore";
import { PrefixableParser, findPart, type MimePart } from "@postline/mime";
import { recordDeliveries } from "../src/deliveries.ts";
import { eventually, startHarness, storedBytes, type Harness } from "./harness.ts";

const PASSWORD = "correct horse battery staple";
const TOKEN = "delivery-test-token-0123456789";

const MESSAGE = [
  "Received: from mx.remote.example by mx.postline.test; Tue, 7 May 2024 10:00:00 +0000",
  "From: Sender <sender@remote.example>",
  "To: Alice <alice@example.test>",
  "Subject: Quarterly figures",
  "Date: Tue, 7 May 2024 10:00:00 +0000",
  "Message-ID: <q1@remote.example>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b1"',
  "",
  "--b1",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "Numbers attached.",
  "--b1",
  "Content-Type: text/csv; name=figures.csv",
  "Content-Disposition: attachment; filename=figures.csv",
  "",
  "q,value",
  "1,42",
  "--b1--",
  "",
].join("\r\n");

interface MessageRow {
  id: number;
  uid: number;
  modseq: number;
  size: number;
  blob_hash: string;
  header_prefix: Uint8Array | null;
  flags: string[];
  subject: string | null;
  bodystructure: MimePart;
  envelope: { subject: string | null };
  mailbox: string;
  address: string;
}

let h: Harness;
let api: FastifyInstance;
let ids: Record<string, number>;

before(async () => {
  h = await startHarness();
  const db = h.t.db;
  await addDomain(db, "example.test");
  await addDomain(db, "catchall.test", { catchAll: "carol@example.test" });
  ids = {};
  for (const name of ["alice", "bob", "carol", "dave"]) {
    ids[name] = (await createAccount(db, { address: `${name}@example.test`, password: PASSWORD, quotaBytes: name === "dave" ? 100 : null })).id;
  }
  await addAlias(db, "team@example.test", "alice@example.test");
  await addAlias(db, "team@example.test", "bob@example.test");
  await addAlias(db, "fwd@example.test", "carol@example.test");
  await addAlias(db, "fwd@example.test", "someone@elsewhere.example");
  api = buildAdminApi({ db, bus: h.bus, token: TOKEN });
  await api.ready();
});
after(async () => {
  await api.close();
  await h.close();
});

async function messagesOf(mailId: string): Promise<MessageRow[]> {
  const r = await h.t.db.query<MessageRow>(
    `SELECT m.id, m.uid, m.modseq, m.size, m.blob_hash, m.header_prefix, m.flags, m.subject, m.bodystructure, m.envelope, b.name AS mailbox, a.address
       FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
      WHERE m.mail_id = $1 ORDER BY a.address`,
    [mailId],
  );
  return r.rows;
}

const delivered = (mailId: string, count: number) => eventually(async () => ((await messagesOf(mailId)).length >= count ? messagesOf(mailId) : undefined), `${count} copies of ${mailId}`);

const blobRow = async (key: string) => (await h.t.db.query<{ refcount: number; unreferenced_at: Date | null }>("SELECT refcount, unreferenced_at FROM blobs WHERE hash = $1", [key])).rows[0];

async function statuses(mailId: string) {
  const r = await h.t.db.query<{ recipient: string; status: string; last_error: string | null; domain: string | null }>(
    "SELECT recipient, status, last_error, domain FROM deliveries WHERE mail_id = $1 ORDER BY recipient",
    [mailId],
  );
  return r.rows;
}

async function call(method: "GET" | "POST" | "DELETE", url: string, payload?: object) {
  const res = await api.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

describe("local delivery", () => {
  test("deliver: one copy in INBOX, headers prepended, size and every offset those of the stored bytes", async () => {
    const event = await h.send(MESSAGE, { rcptTo: ["alice@example.test"] });
    const [m] = await delivered(event.id, 1);
    assert.ok(m);
    assert.deepEqual([m.address, m.mailbox, m.uid, m.flags, m.subject], ["alice@example.test", "INBOX", 1, [], "Quarterly figures"]);

    const stored = await storedBytes(h.blobs, m);
    const expectedHeader =
      "Return-Path: <sender@remote.example>\r\n" +
      "X-Postline-Spam: deliver, score=0.5, symbols=DKIM_PASS(-0.5),MISSING_DATE(1.0)\r\n" +
      "Authentication-Results: mx.postline.test;\r\n\tspf=pass smtp.mailfrom=remote.example;\r\n\tdkim=pass header.d=remote.example\r\n";
    assert.equal(stored.toString("utf8"), expectedHeader + MESSAGE);
    assert.equal(m.size, stored.length);

    const body = m.bodystructure;
    assert.deepEqual([body.headerStart, body.bodyEnd, body.type, body.subtype], [0, stored.length, "multipart", "mixed"]);
    const text = findPart({ size: m.size, envelope: m.envelope as never, body, search: {} as never }, "1")!;
    const csv = findPart({ size: m.size, envelope: m.envelope as never, body, search: {} as never }, "2")!;
    assert.equal(stored.subarray(text.bodyStart, text.bodyEnd).toString(), "Numbers attached.");
    assert.equal(stored.subarray(csv.bodyStart, csv.bodyEnd).toString(), "q,value\r\n1,42");
    assert.equal(stored.subarray(csv.headerStart, csv.bodyStart).toString(), "Content-Type: text/csv; name=figures.csv\r\nContent-Disposition: attachment; filename=figures.csv\r\n\r\n");
    assert.equal(m.envelope.subject, "Quarterly figures");

    // The stored message is the header in its row and the received blob, referenced once.
    assert.equal(m.blob_hash, event.blob.key);
    assert.equal(m.size, expectedHeader.length + event.blob.size);
    const original = (await blobRow(m.blob_hash))!;
    assert.deepEqual([original.refcount, original.unreferenced_at], [1, null]);

    assert.deepEqual(await statuses(event.id), [{ recipient: "alice@example.test", status: "delivered", last_error: null, domain: null }]);
    const used = (await h.t.db.query<{ used_bytes: number }>("SELECT used_bytes FROM accounts WHERE id = $1", [ids.alice])).rows[0]!.used_bytes;
    assert.equal(used, stored.length);

    const change = await eventually(async () => h.changes.find((c) => c.mailId === event.id), "mailbox.changed");
    assert.deepEqual(change, { v: 1, accountId: ids.alice, mailboxId: change.mailboxId, uid: 1, modseq: m.modseq, kind: "append", mailId: event.id, origin: "delivery" });
  });

  test("junk: into the Junk mailbox, flagged $Junk", async () => {
    const event = await h.send(MESSAGE.replace("Quarterly figures", "Cheap pills"), {
      rcptTo: ["bob@example.test"],
      action: "junk",
      score: 7.25,
      symbols: [{ name: "SHOUTING_SUBJECT", score: 2.25 }, { name: "DMARC_FAIL_QUARANTINE", score: 5 }],
    });
    const [m] = await delivered(event.id, 1);
    assert.deepEqual([m!.address, m!.mailbox, m!.flags], ["bob@example.test", "Junk", ["$Junk"]]);
    const stored = (await storedBytes(h.blobs, m!)).toString();
    assert.match(stored, /^Return-Path: <sender@remote\.example>\r\nX-Postline-Spam: junk, score=7\.25, symbols=SHOUTING_SUBJECT\(2\.25\),\r\n\tDMARC_FAIL_QUARANTINE\(5\.0\)\r\nAuthentication-Results: /);
  });

  test("with the structure the spam filter parsed (mail.classified `parsed`): the same stored message as when delivery parses it", async () => {
    const raw = MESSAGE.replace("Quarterly figures", "Parsed upstream");
    const read = await h.send(raw, { rcptTo: ["alice@example.test"] });
    const parse = () => {
      const parser = new PrefixableParser();
      parser.write(Buffer.from(raw));
      return parser.end()!;
    };
    const event = { ...read, id: newMailId(), parsed: parse() };
    await h.publish(event);
    const [a] = await delivered(read.id, 1);
    const [b] = await delivered(event.id, 1);
    assert.equal(b!.blob_hash, read.blob.key);
    assert.deepEqual(b!.header_prefix, a!.header_prefix);
    assert.deepEqual([b!.size, b!.bodystructure, b!.envelope], [a!.size, a!.bodystructure, a!.envelope]);
    // Taken from the event, not from the blob: a subject only the event's structure has shows.
    const marked = parse();
    marked.structure.search.subject = "from the event";
    const third = { ...read, id: newMailId(), parsed: marked };
    await h.publish(third);
    const [c] = await delivered(third.id, 1);
    assert.equal(c!.subject, "from the event");
  });

  test("an alias of two accounts: a copy in each INBOX, one blob referenced twice", async () => {
    const event = await h.send(MESSAGE.replace("q1@", "team1@"), { rcptTo: ["team@example.test"] });
    const copies = await delivered(event.id, 2);
    assert.deepEqual(
      copies.map((c) => [c.address, c.mailbox]),
      [
        ["alice@example.test", "INBOX"],
        ["bob@example.test", "INBOX"],
      ],
    );
    assert.equal(copies[0]!.blob_hash, copies[1]!.blob_hash);
    assert.equal((await blobRow(copies[0]!.blob_hash))!.refcount, 2);
    // Each status is recorded right after its append: the second may lag the second copy a little.
    await eventually(async () => (await statuses(event.id)).length === 2, "both statuses");
    assert.deepEqual(
      (await statuses(event.id)).map((s) => [s.recipient, s.status]),
      [
        ["alice@example.test", "delivered"],
        ["bob@example.test", "delivered"],
      ],
    );
    assert.equal(copies[0]!.blob_hash, event.blob.key, "the received blob itself");
  });

  test("an account without INBOX: deferred, nothing stored for it; the other copy delivered", async () => {
    const erin = (await createAccount(h.t.db, { address: "erin@example.test", password: PASSWORD })).id;
    await h.t.db.query("UPDATE mailboxes SET name = 'Old' WHERE account_id = $1 AND name = 'INBOX'", [erin]);
    const mailboxesBefore = (await h.t.db.query("SELECT id, uidnext, highestmodseq FROM mailboxes WHERE account_id = $1 ORDER BY id", [erin])).rows;
    const failed = await h.outcome("failed");
    const event = await h.send(MESSAGE.replace("q1@", "noinbox@"), { rcptTo: ["alice@example.test", "erin@example.test"] });
    const copies = await delivered(event.id, 1);
    const rows = await eventually(async () => ((await statuses(event.id)).length === 2 ? statuses(event.id) : undefined), "both statuses");
    assert.deepEqual(
      rows.map((s) => [s.recipient, s.status, s.last_error]),
      [
        ["alice@example.test", "delivered", null],
        ["erin@example.test", "deferred", "no INBOX"],
      ],
    );
    assert.deepEqual(copies.map((c) => c.address), ["alice@example.test"]);
    assert.equal(await h.outcome("failed"), failed + 1);
    assert.deepEqual((await h.t.db.query("SELECT id, uidnext, highestmodseq FROM mailboxes WHERE account_id = $1 ORDER BY id", [erin])).rows, mailboxesBefore);
    assert.equal((await h.t.db.query<{ used_bytes: number }>("SELECT used_bytes FROM accounts WHERE id = $1", [erin])).rows[0]!.used_bytes, 0);
    // Referenced by alice's copy only.
    assert.equal((await blobRow(event.blob.key))!.refcount, 1);
  });

  test("recordDeliveries with a blob to register: the statuses, and the blob row only when it has none", async () => {
    const mailId = newMailId();
    const fresh = await h.blobs.put(Buffer.from(`fresh ${Math.random()}`));
    const held = await h.blobs.put(Buffer.from(`held ${Math.random()}`));
    await h.t.db.query("INSERT INTO blobs (hash, size, refcount) VALUES ($1, $2, 1)", [held.key, held.size]);
    await recordDeliveries(h.t.db, mailId, "s@remote.example", [{ recipient: "alice@example.test", status: "delivered" }], fresh);
    await recordDeliveries(h.t.db, mailId, "s@remote.example", [{ recipient: "bob@example.test", status: "deferred", lastError: "no INBOX" }], held);
    assert.deepEqual(
      (await statuses(mailId)).map((s) => [s.recipient, s.status, s.last_error]),
      [
        ["alice@example.test", "delivered", null],
        ["bob@example.test", "deferred", "no INBOX"],
      ],
    );
    const freshRow = (await blobRow(fresh.key))!;
    assert.equal(freshRow.refcount, 0);
    assert.ok(freshRow.unreferenced_at instanceof Date);
    assert.deepEqual(await blobRow(held.key), { refcount: 1, unreferenced_at: null });
    // A delivered recipient is not moved back by the same statement either.
    await recordDeliveries(h.t.db, mailId, "s@remote.example", [{ recipient: "alice@example.test", status: "deferred", lastError: "late" }], fresh);
    assert.deepEqual((await statuses(mailId)).map((s) => s.status), ["delivered", "deferred"]);
  });

  test("recipient and alias leading to one account: one copy", async () => {
    const event = await h.send(MESSAGE, { rcptTo: ["team@example.test", "alice@example.test", "ALICE+news@example.test"] });
    const copies = await delivered(event.id, 2);
    await eventually(async () => (await statuses(event.id)).length === 2, "statuses");
    assert.deepEqual(copies.map((c) => c.address), ["alice@example.test", "bob@example.test"]);
  });

  test("catch-all, and an alias with a remote destination (queued for remote delivery)", async () => {
    const event = await h.send(MESSAGE, { rcptTo: ["nobody@catchall.test", "fwd@example.test"] });
    const copies = await delivered(event.id, 1);
    assert.deepEqual(copies.map((c) => c.address), ["carol@example.test"]);
    const rows = await eventually(async () => ((await statuses(event.id)).length === 2 ? statuses(event.id) : undefined), "statuses");
    assert.deepEqual(
      rows.map((s) => [s.recipient, s.status, s.domain]),
      [
        ["carol@example.test", "delivered", null],
        // The remote part has it (its domain does not resolve here: waiting or failed, never lost).
        ["someone@elsewhere.example", rows[1]!.status, "elsewhere.example"],
      ],
    );
    assert.match(rows[1]!.status, /^(queued|deferred|bounced)$/);
  });

  test("the same event again: still one copy, no UID used, the same stored blob", async () => {
    const event = await h.send(MESSAGE.replace("q1@", "q2@"), { rcptTo: ["carol@example.test"] });
    const [first] = await delivered(event.id, 1);
    const uidnext = async () => (await h.t.db.query<{ uidnext: number }>("SELECT uidnext FROM mailboxes WHERE account_id = $1 AND name = 'INBOX'", [ids.carol])).rows[0]!.uidnext;
    const before = await uidnext();
    // The event as Kafka would redeliver it: recorded as delivered, nothing to do.
    await h.publish(event);
    await h.drained();
    // As after a crash between the append and recording it: the append finds its own copy.
    await h.t.db.query("DELETE FROM deliveries WHERE mail_id = $1", [event.id]);
    const duplicates = await h.outcome("duplicate");
    await h.publish(event);
    await h.drained();
    assert.equal(await h.outcome("duplicate"), duplicates + 1);
    const copies = await messagesOf(event.id);
    assert.equal(copies.length, 1);
    assert.deepEqual([copies[0]!.uid, copies[0]!.blob_hash], [first!.uid, first!.blob_hash], "the same stored blob key from the same event");
    assert.equal(await uidnext(), before);
    assert.equal((await blobRow(first!.blob_hash))!.refcount, 1);
    assert.deepEqual((await statuses(event.id)).map((s) => s.status), ["delivered"]);
  });

  test("over quota at delivery time: still stored, counted", async () => {
    const event = await h.send(MESSAGE, { rcptTo: ["dave@example.test"] });
    const [m] = await delivered(event.id, 1);
    assert.equal(m!.address, "dave@example.test");
    await eventually(async () => (await h.registry.getSingleMetric("postline_delivery_over_quota_total")!.get()).values[0]!.value === 1, "counted");
  });

  test("a message with bare LF line endings gets LF header lines", async () => {
    const lf = MESSAGE.replace(/\r\n/g, "\n");
    const event = await h.send(lf, { rcptTo: ["carol@example.test"], symbols: [] });
    const [m] = await delivered(event.id, 1);
    const stored = (await storedBytes(h.blobs, m!)).toString();
    assert.ok(stored.startsWith("Return-Path: <sender@remote.example>\nX-Postline-Spam: deliver, score=0.5, symbols=\nAuthentication-Results: mx.postline.test;\n\tspf=pass"));
    assert.ok(stored.endsWith(lf));
    assert.equal(m!.size, Buffer.byteLength(stored));
  });

  test("a recipient removed since RCPT: recorded as failed, the others delivered", async () => {
    const event = await h.send(MESSAGE, { rcptTo: ["gone@example.test", "bob@example.test"] });
    await delivered(event.id, 1);
    const rows = await eventually(async () => ((await statuses(event.id)).length === 2 ? statuses(event.id) : undefined), "statuses");
    assert.deepEqual(
      rows.map((s) => [s.recipient, s.status]),
      [
        ["bob@example.test", "delivered"],
        ["gone@example.test", "bounced"],
      ],
    );
  });
});

describe("what cannot be delivered", () => {
  test("the received message missing from the blob store: recorded, not retried forever, the next message goes on", async () => {
    const missing = "f".repeat(64);
    const event = await h.send(MESSAGE, { rcptTo: ["alice@example.test"] });
    await h.drained();
    const gone = { ...event, id: newMailId(), blob: { key: missing, sha256: missing, size: 10 } };
    await h.publish(gone);
    await h.drained();
    assert.deepEqual(await statuses(gone.id), [{ recipient: "alice@example.test", status: "deferred", last_error: "message content missing from the blob store", domain: null }]);
    assert.deepEqual(await messagesOf(gone.id), []);
    const next = await h.send(MESSAGE.replace("q1@", "after-missing@"), { rcptTo: ["alice@example.test"] });
    await delivered(next.id, 1);
  });

  test("an event that does not match the contract is skipped", async () => {
    await h.bus.produce("mail.classified", [{ key: "x", value: JSON.stringify({ v: 1, id: "nonsense" }) }, { key: "y", value: "not json" }]);
    await h.drained();
    const event = await h.send(MESSAGE.replace("q1@", "after-invalid@"), { rcptTo: ["bob@example.test"] });
    await delivered(event.id, 1);
  });

  test("submitted mail: local recipients delivered, remote ones queued for the remote part", async () => {
    const event = await h.send(MESSAGE.replace("q1@", "sub1@"), { rcptTo: ["bob@example.test", "Friend@Elsewhere.example"], source: "submission", mailFrom: "alice@example.test" });
    await delivered(event.id, 1);
    const rows = await eventually(async () => ((await statuses(event.id)).length === 2 ? statuses(event.id) : undefined), "statuses");
    assert.deepEqual(
      rows.map((s) => [s.recipient, s.status, s.domain]),
      [
        ["bob@example.test", "delivered", null],
        ["friend@elsewhere.example", rows[1]!.status, "elsewhere.example"],
      ],
    );
    assert.match(rows[1]!.status, /^(queued|deferred|bounced)$/);
    const outbound = await h.t.db.query<{ sender: string; holds_blob: boolean }>("SELECT sender, holds_blob FROM outbound_messages WHERE mail_id = $1", [event.id]);
    assert.equal(outbound.rows[0]?.sender, "alice@example.test");
  });
});

// Bounded, so that a stuck step names its suite instead of ending the whole file at the runner's limit.
describe("blob collection in the service", { timeout: 120_000 }, () => {
  test("the received blob is what the copy references: kept while it is in a mailbox, collected after the grace period once expunged", async () => {
    const h2 = await startHarness({ POSTLINE_BLOB_GC_INTERVAL_SECONDS: "1", POSTLINE_BLOB_GC_GRACE_SECONDS: "0" });
    try {
      await addDomain(h2.t.db, "gc.test");
      const erin = await createAccount(h2.t.db, { address: "erin@gc.test", password: PASSWORD });
      const event = await h2.send(MESSAGE, { rcptTo: ["erin@gc.test"] });
      const row = await eventually(
        async () => (await h2.t.db.query<{ blob_hash: string; mailbox_id: number; uid: number }>("SELECT blob_hash, mailbox_id, uid FROM messages WHERE mail_id = $1", [event.id])).rows[0],
        "delivery",
      );
      assert.equal(row.blob_hash, event.blob.key, "delivery writes no blob of its own");
      // Registered for the collector with the delivery status, yet referenced: several collector runs leave it.
      const collected = h2.registry.getSingleMetric("postline_delivery_blobs_collected_total")!;
      const before = (await collected.get()).values[0]?.value ?? 0;
      await new Promise((r) => setTimeout(r, 2500));
      assert.ok(await h2.blobs.stat(event.blob.key));
      assert.equal((await h2.t.db.query("SELECT 1 FROM blobs WHERE hash = $1 AND collected_at IS NULL AND refcount = 1", [event.blob.key])).rows.length, 1);

      await removeMessages(h2.t.db, { accountId: erin.id, mailboxId: Number(row.mailbox_id), uids: [Number(row.uid)] });
      // The collector stamps the row as a tombstone, then deletes the object (the row goes a day later);
      // the counter moves when its whole run ends, which may be after this blob's deletion is visible.
      await eventually(
        async () =>
          (await h2.blobs.stat(event.blob.key)) === null &&
          (await h2.t.db.query("SELECT 1 FROM blobs WHERE hash = $1 AND collected_at IS NOT NULL", [event.blob.key])).rows.length === 1 &&
          ((await collected.get()).values[0]?.value ?? 0) >= before + 1,
        "the blob collected once unreferenced, its row a tombstone, counted",
        5000,
      );
    } finally {
      await h2.close();
    }
  });
});

describe("quarantine", { timeout: 120_000 }, () => {
  test("quarantine verdict: kept out of the mailboxes, listed, released, then delivered once", async () => {
    const event = await h.send(MESSAGE.replace("Quarterly figures", "Invoice overdue"), {
      rcptTo: ["alice@example.test"],
      action: "quarantine",
      score: 11,
      symbols: [{ name: "EXECUTABLE_ATTACHMENT", score: 8, detail: "invoice.exe" }, { name: "SPF_SOFTFAIL", score: 3 }],
    });
    const listed = await eventually(async () => {
      const r = await call("GET", "/v1/quarantine");
      return r.body.quarantine.find((e: { mailId: string }) => e.mailId === event.id);
    }, "the quarantine entry");
    assert.equal(listed.subject, "Invoice overdue");
    assert.equal(listed.from, "Sender <sender@remote.example>");
    assert.deepEqual(listed.recipients, ["alice@example.test"]);
    assert.equal(listed.action, "quarantine");
    assert.equal(listed.size, event.blob.size);
    assert.equal(listed.releasedAt, null);
    assert.deepEqual(await messagesOf(event.id), []);
    assert.deepEqual((await statuses(event.id)).map((s) => s.status), ["quarantined"]);
    assert.equal((await blobRow(event.blob.key))!.refcount, 1, "the entry holds the received blob");

    const details = await call("GET", `/v1/quarantine/${event.id}`);
    assert.deepEqual(details.body.verdict.symbols, [{ name: "EXECUTABLE_ATTACHMENT", score: 8, detail: "invoice.exe" }, { name: "SPF_SOFTFAIL", score: 3 }]);

    const released = await call("POST", `/v1/quarantine/${event.id}/release`, { by: "postmaster" });
    assert.equal(released.status, 200, JSON.stringify(released.body));
    assert.equal(released.body.releasedBy, "postmaster");
    const [m] = await delivered(event.id, 1);
    assert.deepEqual([m!.address, m!.mailbox], ["alice@example.test", "INBOX"]);
    const stored = (await storedBytes(h.blobs, m!)).toString();
    assert.match(stored, /X-Postline-Spam: deliver, score=11\.0, symbols=EXECUTABLE_ATTACHMENT\(8\.0\),\r\n\tSPF_SOFTFAIL\(3\.0\),QUARANTINE_RELEASED\(0\.0\)\r\n/);
    await eventually(async () => (await statuses(event.id))[0]!.status === "delivered", "status delivered");
    // The delivered copy references the received blob; the entry's reference is given back.
    await eventually(async () => (await blobRow(event.blob.key))!.refcount === 1, "the entry's reference given back");

    // Released: no longer among the held ones, listed as released; releasing again delivers nothing new.
    assert.ok(!(await call("GET", "/v1/quarantine")).body.quarantine.some((e: { mailId: string }) => e.mailId === event.id));
    assert.ok((await call("GET", "/v1/quarantine?status=released")).body.quarantine.some((e: { mailId: string }) => e.mailId === event.id));
    assert.equal((await call("POST", `/v1/quarantine/${event.id}/release`)).status, 200);
    await h.drained();
    assert.equal((await messagesOf(event.id)).length, 1);
  });

  test("reject after acceptance means quarantine; discard removes it and gives the blob back", async () => {
    const event = await h.send(MESSAGE.replace("Quarterly figures", "Rejected after acceptance"), { rcptTo: ["team@example.test"], action: "reject", score: 25 });
    const entry = await eventually(async () => (await call("GET", `/v1/quarantine/${event.id}`)).body?.mailId && (await call("GET", `/v1/quarantine/${event.id}`)).body, "entry");
    assert.equal(entry.action, "reject");
    assert.deepEqual((await statuses(event.id)).map((s) => [s.recipient, s.status]), [
      ["alice@example.test", "quarantined"],
      ["bob@example.test", "quarantined"],
    ]);
    assert.equal((await call("DELETE", `/v1/quarantine/${event.id}`)).status, 204);
    assert.equal((await call("GET", `/v1/quarantine/${event.id}`)).status, 404);
    assert.equal((await blobRow(event.blob.key))!.refcount, 0);
    assert.deepEqual((await statuses(event.id)).map((s) => s.status), ["deleted", "deleted"]);
    // The event coming again after the discard does not bring it back.
    await h.publish(event);
    await h.drained();
    assert.equal((await call("GET", `/v1/quarantine/${event.id}`)).status, 404);
    assert.deepEqual(await messagesOf(event.id), []);
  });
});
