import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BayesStore, messageKeyOf } from "@postline/antispam";
import { FsBlobStore } from "@postline/blobstore";
import { allTopics, openBus, Topics, type Bus, type Consumer } from "@postline/bus";
import { parseConfig } from "@postline/config";
import type { Db } from "@postline/db";
import { addDomain, createAccount } from "@postline/directory";
import { mailboxChanged, publishEvent, type MailboxChanged } from "@postline/events";
import { appendMessage, removeMessages } from "@postline/mailstore";
import { parseMessageBuffer } from "@postline/mime";
import { createLogger } from "@postline/telemetry";
import { createPgliteDatabase } from "@postline/testkit";
import { Registry } from "prom-client";
import { LEARNER_GROUP, startLearner, withoutDeliveryHeader } from "../src/learner.ts";
import { spamFilterSchema } from "../src/settings.ts";

// The learner on the embedded adapters (PGlite, the embedded bus, filesystem blobs): users' moves
// into and out of Junk train their account's model, once per class, corrections unlearn.

const RECEIVED = [
  "Received: from mx.remote.example by mx.learn.test; Tue, 7 May 2024 10:00:00 +0000",
  "From: Deals <deals@remote.example>",
  "To: alice@learn.test",
  "Subject: Cheap watches for you",
  "Date: Tue, 7 May 2024 10:00:00 +0000",
  "Message-ID: <w1@remote.example>",
  "",
  "Replica watches at unbelievable prices. Click http://watches.example/buy now.",
  "",
].join("\r\n");
/** As delivery stores it: its header fields on top (see services/delivery stored-message.ts). */
const STORED =
  "Return-Path: <deals@remote.example>\r\n" +
  "X-Postline-Spam: deliver, score=1.0, symbols=MISSING_MID(1.0),\r\n\tBAYES_HAM(0.0)\r\n" +
  "Authentication-Results: mx.learn.test;\r\n\tspf=none\r\n" +
  RECEIVED;

let dir: string;
let db: Db;
let bus: Bus;
let blobs: FsBlobStore;
let learner: Consumer;
let registry: Registry;
const store = () => new BayesStore(db);
const boxes: Record<string, Record<string, number>> = {};
const accounts: Record<string, number> = {};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "spam-learner-"));
  db = await createPgliteDatabase();
  bus = openBus({ kind: "embedded", db, pollIntervalMs: 25 });
  await bus.createTopics(allTopics(4));
  blobs = await FsBlobStore.open(join(dir, "blobs"));
  await addDomain(db, "learn.test");
  for (const name of ["alice", "bob"]) {
    accounts[name] = (await createAccount(db, { address: `${name}@learn.test`, password: "correct horse battery staple" })).id;
    const r = await db.query<{ id: number; name: string }>("SELECT id, name FROM mailboxes WHERE account_id = $1", [accounts[name]]);
    boxes[name] = Object.fromEntries(r.rows.map((m) => [m.name, Number(m.id)]));
  }
  registry = new Registry();
  learner = await startLearner({
    db,
    bus,
    blobs,
    logger: createLogger("spam-learner-test", "silent"),
    registry,
    settings: parseConfig(spamFilterSchema, {}),
  });
});

after(async () => {
  await learner?.stop();
  await bus?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Appends `raw` to one of the account's mailboxes, as delivery or an IMAP command would. */
async function append(account: string, mailbox: string, raw: string): Promise<{ uid: number; modseq: number; mailboxId: number }> {
  const bytes = Buffer.from(raw);
  const ref = await blobs.put(bytes);
  const mailboxId = boxes[account]![mailbox]!;
  const r = await appendMessage(db, {
    accountId: accounts[account]!,
    mailboxId,
    blob: { key: ref.key, size: ref.size },
    internalDate: new Date(),
    structure: parseMessageBuffer(bytes),
  });
  return { uid: r.uid, modseq: r.modseq, mailboxId };
}

async function announce(account: string, at: { uid: number; modseq: number; mailboxId: number }, extra: Partial<MailboxChanged>): Promise<void> {
  await publishEvent(bus, Topics.mailboxChanged, mailboxChanged, String(accounts[account]), {
    v: 1,
    accountId: accounts[account]!,
    mailboxId: at.mailboxId,
    uid: at.uid,
    modseq: at.modseq,
    kind: "append",
    ...extra,
  });
}

/** Resolves once the learner's group has committed every mailbox.changed record published so far. */
async function drained(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await db.query<{ pending: number }>(
      `SELECT count(*)::int AS pending FROM bus_records r
        WHERE r.topic = $1
          AND r."offset" >= COALESCE((SELECT next_offset FROM bus_group_offsets o
                                      WHERE o.group_id = $2 AND o.topic = r.topic AND o.partition = r.partition), 0)`,
      [Topics.mailboxChanged, LEARNER_GROUP],
    );
    if (r.rows[0]!.pending === 0) return;
    if (Date.now() > deadline) throw new Error("the learner did not consume every mailbox.changed record");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function learnedCount(cls: string, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric("postline_spam_learner_messages_total")!.get();
  return metric.values.find((v) => v.labels.class === cls && v.labels.outcome === outcome && v.labels.model === "account")?.value ?? 0;
}

describe("the spam learner", () => {
  test("the delivery header is not learned: the key is that of the received bytes", () => {
    assert.equal(withoutDeliveryHeader(Buffer.from(STORED)).toString(), RECEIVED);
    assert.equal(messageKeyOf(withoutDeliveryHeader(Buffer.from(STORED))), messageKeyOf(Buffer.from(RECEIVED)));
    // A message a user appended (no delivery header) is learned as it is.
    assert.equal(withoutDeliveryHeader(Buffer.from(RECEIVED)).toString(), RECEIVED);
    const returnPathOnly = `Return-Path: <x@y.example>\r\n${RECEIVED}`;
    assert.equal(withoutDeliveryHeader(Buffer.from(returnPathOnly)).toString(), returnPathOnly);
  });

  test("moved into Junk: spam for that account only; never twice under redelivery; moved out: corrected to ham", async () => {
    const inbox = await append("alice", "INBOX", STORED);
    // Delivery's own appends (into INBOX or Junk) teach nothing.
    await announce("alice", inbox, { origin: "delivery" });
    const filtered = await append("alice", "Junk", STORED.replace("w1@", "w0@"));
    await announce("alice", filtered, { origin: "delivery" });
    // An event of an older producer (no origin) neither.
    await announce("alice", filtered, {});

    // MOVE INBOX → Junk: the append in Junk, with the source mailbox.
    const junk = await append("alice", "Junk", STORED);
    await announce("alice", junk, { origin: "user", sourceMailboxId: boxes.alice!.INBOX });
    await drained();
    assert.deepEqual(await store().stats(accounts.alice!), { spam: 1, ham: 0, tokens: (await store().stats(accounts.alice!)).tokens });
    assert.ok((await store().stats(accounts.alice!)).tokens > 5);
    assert.equal(await learnedCount("spam", "learned"), 1);

    // The same event again (Kafka redelivers), and a second copy of the same message into Junk: still one spam.
    await announce("alice", junk, { origin: "user", sourceMailboxId: boxes.alice!.INBOX });
    const copy = await append("alice", "Junk", STORED);
    await announce("alice", copy, { origin: "user", sourceMailboxId: boxes.alice!.INBOX });
    await drained();
    assert.equal((await store().stats(accounts.alice!)).spam, 1);
    assert.equal(await learnedCount("spam", "already"), 2);

    // Bob's model and the global one did not learn anything (POSTLINE_SPAM_LEARN_GLOBAL_FROM_USERS is off).
    assert.deepEqual(await store().stats(accounts.bob!), { spam: 0, ham: 0, tokens: 0 });
    assert.deepEqual(await store().stats(null), { spam: 0, ham: 0, tokens: 0 });

    // Junk → Trash teaches nothing; Junk → Archive is a correction: spam unlearned, ham learned.
    const trash = await append("alice", "Trash", STORED);
    await announce("alice", trash, { origin: "user", sourceMailboxId: boxes.alice!.Junk });
    await drained();
    assert.equal((await store().stats(accounts.alice!)).ham, 0);
    const archived = await append("alice", "Archive", STORED);
    await announce("alice", archived, { origin: "user", sourceMailboxId: boxes.alice!.Junk });
    await announce("alice", archived, { origin: "user", sourceMailboxId: boxes.alice!.Junk });
    await drained();
    const after = await store().stats(accounts.alice!);
    assert.deepEqual([after.spam, after.ham], [0, 1]);
    assert.equal(await learnedCount("ham", "relearned"), 1);
    assert.equal(await learnedCount("ham", "already"), 1);

    // A plain move between ordinary mailboxes teaches nothing.
    const moved = await append("alice", "INBOX", STORED.replace("w1@", "w2@"));
    await announce("alice", moved, { origin: "user", sourceMailboxId: boxes.alice!.Archive });
    await drained();
    const same = await store().stats(accounts.alice!);
    assert.deepEqual([same.spam, same.ham], [0, 1]);
  });

  test("COPY + EXPUNGE: the copy in Junk is learned, the expunge of the original teaches nothing", async () => {
    const original = await append("bob", "INBOX", STORED.replace("w1@", "b1@"));
    const copy = await append("bob", "Junk", STORED.replace("w1@", "b1@"));
    await announce("bob", copy, { origin: "user", sourceMailboxId: boxes.bob!.INBOX });
    await removeMessages(db, { accountId: accounts.bob!, mailboxId: original.mailboxId, uids: [original.uid] });
    await announce("bob", original, { origin: "user", kind: "expunge" });
    await drained();
    assert.equal((await store().stats(accounts.bob!)).spam, 1);

    // COPY back to INBOX, EXPUNGE in Junk: corrected.
    const back = await append("bob", "INBOX", STORED.replace("w1@", "b1@"));
    await announce("bob", back, { origin: "user", sourceMailboxId: boxes.bob!.Junk });
    await removeMessages(db, { accountId: accounts.bob!, mailboxId: copy.mailboxId, uids: [copy.uid] });
    await announce("bob", copy, { origin: "user", kind: "expunge" });
    await drained();
    const stats = await store().stats(accounts.bob!);
    assert.deepEqual([stats.spam, stats.ham], [0, 1]);
  });

  test("a message gone before the learner got to it is skipped", async () => {
    const gone = await append("bob", "Junk", STORED.replace("w1@", "gone@"));
    await removeMessages(db, { accountId: accounts.bob!, mailboxId: gone.mailboxId, uids: [gone.uid] });
    await announce("bob", gone, { origin: "user", sourceMailboxId: boxes.bob!.INBOX });
    await drained();
    assert.equal(await learnedCount("spam", "gone"), 1);
    assert.equal((await store().stats(accounts.bob!)).spam, 0);
  });
});
