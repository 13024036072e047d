import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { addAlias, addDomain, createAccount } from "@postline/directory";
import { newMailId, type MailClassified } from "@postline/events";
import type { MimePart } from "@postline/mime";
import { effectiveVerdict } from "../src/local/deliver-local.ts";
import { eventually, startHarness, storedBytes, type Harness } from "./harness.ts";

// Per-account verdicts (verdict.accounts of mail.classified): each account's copy goes where its own
// verdict says, with its own X-Postline-Spam header (a blob of its own).

const MESSAGE = [
  "From: Sender <sender@remote.example>",
  "To: team@acct.test",
  "Subject: Limited offer",
  "Date: Tue, 7 May 2024 10:00:00 +0000",
  "Message-ID: <offer@remote.example>",
  "",
  "Buy now.",
  "",
].join("\r\n");

let h: Harness;
const ids: Record<string, number> = {};

before(async () => {
  h = await startHarness();
  await addDomain(h.t.db, "acct.test");
  for (const name of ["alice", "bob"]) ids[name] = (await createAccount(h.t.db, { address: `${name}@acct.test`, password: "correct horse battery staple" })).id;
  await addAlias(h.t.db, "team@acct.test", "alice@acct.test");
  await addAlias(h.t.db, "team@acct.test", "bob@acct.test");
});
after(() => h.close());

interface Row {
  address: string;
  mailbox: string;
  flags: string[];
  size: number;
  blob_hash: string;
  header_prefix: Uint8Array | null;
  bodystructure: MimePart;
}

async function copiesOf(mailId: string, count: number): Promise<Row[]> {
  const read = async () =>
    (
      await h.t.db.query<Row>(
        `SELECT a.address, b.name AS mailbox, m.flags, m.size, m.blob_hash, m.header_prefix, m.bodystructure
           FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id
          WHERE m.mail_id = $1 ORDER BY a.address`,
        [mailId],
      )
    ).rows;
  return eventually(async () => ((await read()).length >= count ? read() : undefined), `${count} copies of ${mailId}`);
}

async function sendWith(verdict: MailClassified["verdict"], subject: string): Promise<MailClassified> {
  const ref = await h.blobs.put(Buffer.from(MESSAGE.replace("Limited offer", subject)));
  const event: MailClassified = {
    v: 1,
    id: newMailId(),
    blob: ref,
    envelope: { mailFrom: "sender@remote.example", rcptTo: ["team@acct.test"], smtpUtf8: false, body: "8BITMIME", dsn: { rcpt: {} } },
    client: { ip: "192.0.2.10", helo: "mx.remote.example", tls: true },
    receivedAt: new Date().toISOString(),
    sessionSymbols: [],
    source: "inbound",
    verdict,
  };
  await h.publish(event);
  return event;
}

const text = async (row: Row) => (await storedBytes(h.blobs, row)).toString();
/** The header section unfolded. */
const unfolded = (message: string) => message.slice(0, message.indexOf("\r\n\r\n") + 2).replace(/\r\n[ \t]+/g, "");

describe("per-account verdicts in local delivery", () => {
  test("an account's junk verdict puts its copy in Junk with its own header; the other account gets the message's", async () => {
    const event = await sendWith(
      {
        action: "deliver",
        score: 1,
        symbols: [{ name: "MISSING_DATE", score: 1 }],
        authResults: "mx.acct.test; none",
        accounts: [{ accountId: ids.alice!, action: "junk", score: 6, symbols: [{ name: "MISSING_DATE", score: 1 }, { name: "BAYES_USER_SPAM", score: 5, detail: "0.99" }] }],
      },
      "Offer one",
    );
    const [alice, bob] = await copiesOf(event.id, 2);
    assert.deepEqual([alice!.address, alice!.mailbox, alice!.flags], ["alice@acct.test", "Junk", ["$Junk"]]);
    assert.deepEqual([bob!.address, bob!.mailbox, bob!.flags], ["bob@acct.test", "INBOX", []]);
    assert.equal(alice!.blob_hash, bob!.blob_hash, "one received blob");
    assert.notDeepEqual(alice!.header_prefix, bob!.header_prefix, "each verdict its own header");
    const aliceText = await text(alice!);
    const bobText = await text(bob!);
    assert.match(unfolded(aliceText), /\r\nX-Postline-Spam: junk, score=6\.0, symbols=MISSING_DATE\(1\.0\),BAYES_USER_SPAM\(5\.0\)\r\n/);
    assert.match(unfolded(bobText), /\r\nX-Postline-Spam: deliver, score=1\.0, symbols=MISSING_DATE\(1\.0\)\r\n/);
    // The size and the offsets of each copy are those of its own bytes.
    for (const [row, bytes] of [
      [alice!, aliceText],
      [bob!, bobText],
    ] as const) {
      assert.equal(row.size, Buffer.byteLength(bytes));
      assert.equal(row.bodystructure.bodyEnd, Buffer.byteLength(bytes));
      assert.equal(bytes.slice(row.bodystructure.bodyStart, row.bodystructure.bodyEnd), "Buy now.\r\n");
    }

    // The same event again: nothing new, the same blobs.
    await h.publish(event);
    await h.drained();
    const again = await copiesOf(event.id, 2);
    assert.equal(again.length, 2);
    assert.deepEqual(
      again.map((r) => r.blob_hash),
      [alice!.blob_hash, bob!.blob_hash],
    );
  });

  test("a message-level junk verdict with an account's deliver verdict: that account's copy in INBOX", async () => {
    const event = await sendWith(
      {
        action: "junk",
        score: 6,
        symbols: [{ name: "BAYES_SPAM", score: 6 }],
        authResults: "mx.acct.test; none",
        accounts: [{ accountId: ids.bob!, action: "deliver", score: 2, symbols: [{ name: "BAYES_SPAM", score: 6 }, { name: "BAYES_USER_HAM", score: -4 }] }],
      },
      "Offer two",
    );
    const [alice, bob] = await copiesOf(event.id, 2);
    assert.deepEqual([alice!.mailbox, bob!.mailbox], ["Junk", "INBOX"]);
    assert.match(unfolded(await text(bob!)), /X-Postline-Spam: deliver, score=2\.0, symbols=BAYES_SPAM\(6\.0\),BAYES_USER_HAM\(-4\.0\)\r\n/);
  });

  test("an account-level quarantine or reject means that account's Junk (the message itself is delivered)", async () => {
    const event = await sendWith(
      {
        action: "deliver",
        score: 0,
        symbols: [],
        authResults: "mx.acct.test; none",
        accounts: [
          { accountId: ids.alice!, action: "quarantine", score: 11, symbols: [{ name: "USER_BLOCKED", score: 11 }] },
          { accountId: ids.bob!, action: "reject", score: 16, symbols: [{ name: "USER_BLOCKED", score: 16 }] },
        ],
      },
      "Offer three",
    );
    const copies = await copiesOf(event.id, 2);
    assert.deepEqual(
      copies.map((c) => [c.address, c.mailbox]),
      [
        ["alice@acct.test", "Junk"],
        ["bob@acct.test", "Junk"],
      ],
    );
    const statuses = async () => (await h.t.db.query<{ status: string }>("SELECT status FROM deliveries WHERE mail_id = $1", [event.id])).rows.map((r) => r.status);
    await eventually(async () => (await statuses()).length === 2, "both statuses recorded");
    assert.deepEqual(await statuses(), ["delivered", "delivered"]);
  });

  test("a message released from quarantine goes to every INBOX whatever the earlier account verdicts", () => {
    const released: MailClassified["verdict"] = {
      action: "deliver",
      score: 11,
      symbols: [{ name: "QUARANTINE_RELEASED", score: 0 }],
      authResults: "x; none",
      accounts: [{ accountId: 1, action: "junk", score: 15, symbols: [] }],
    };
    assert.equal(effectiveVerdict(released, 1), released);
    const held = { ...released, symbols: [] };
    assert.deepEqual(effectiveVerdict(held, 1), { action: "junk", score: 15, symbols: [], authResults: "x; none" });
    assert.equal(effectiveVerdict(held, 2), held);
  });
});
