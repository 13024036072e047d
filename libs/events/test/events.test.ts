import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidEvent, decodeEvent, encodeEvent, eventHandler, mailAccepted, mailClassified, newMailId, type MailAcceptedInput, type MailClassifiedInput } from "@postline/events";

const sample = (): MailAcceptedInput => ({
  v: 1,
  id: newMailId(),
  blob: { key: "a".repeat(64), sha256: "a".repeat(64), size: 123 },
  envelope: { mailFrom: "", rcptTo: ["bob@example.test"] },
  client: { ip: "192.0.2.1", helo: "mx.example.net", tls: true },
  receivedAt: new Date().toISOString(),
});

test("an event round-trips with defaults filled in", () => {
  const e = sample();
  const decoded = decodeEvent(mailAccepted, { topic: "mail.received", value: encodeEvent(mailAccepted, e) });
  assert.equal(decoded.id, e.id);
  assert.equal(decoded.envelope.smtpUtf8, false);
  assert.equal(decoded.envelope.body, "7BIT");
  assert.deepEqual(decoded.envelope.dsn, { rcpt: {} });
  assert.deepEqual(decoded.sessionSymbols, []);
});

test("a producer cannot encode an event that breaks the contract", () => {
  assert.throws(() => encodeEvent(mailAccepted, { ...sample(), envelope: { mailFrom: "", rcptTo: [] } }));
  assert.throws(() => encodeEvent(mailClassified, { ...sample(), source: "inbound" } as never));
});

test("decoding names what is wrong", () => {
  assert.throws(() => decodeEvent(mailAccepted, { topic: "t", value: Buffer.from("{") }), /invalid event on t: not JSON/);
  const bad = { ...sample(), id: "not-a-ulid" };
  assert.throws(() => decodeEvent(mailAccepted, { topic: "t", value: Buffer.from(JSON.stringify(bad)) }), /id: must be a ULID/);
});

test("mail ids are ULIDs that sort by creation", () => {
  const ids = Array.from({ length: 100 }, () => newMailId());
  assert.deepEqual([...ids].sort(), ids);
});

test("mail ids carry their creation time, are unique and strictly increasing within one millisecond", () => {
  const before = Date.now();
  const ids = Array.from({ length: 5000 }, () => newMailId());
  const after = Date.now();
  for (const id of ids) assert.match(id, /^[0-9A-HJKMNP-TV-Z]{26}$/);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  for (const id of [ids[0]!, ids.at(-1)!]) {
    const t = decodeTime(id);
    assert.ok(t >= before && t <= after, `time ${t} within [${before}, ${after}]`);
  }
  // Two ids of one millisecond differ in the random part by one.
  const sameMs = ids.findIndex((id, i) => i > 0 && id.slice(0, 10) === ids[i - 1]!.slice(0, 10));
  assert.ok(sameMs > 0, "some ids share a millisecond");
  const a = ids[sameMs - 1]!;
  const b = ids[sameMs]!;
  assert.equal(decodeRandom(b) - decodeRandom(a), 1n);
});

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const decodeTime = (id: string): number => [...id.slice(0, 10)].reduce((n, ch) => n * 32 + ALPHABET.indexOf(ch), 0);
const decodeRandom = (id: string): bigint => [...id.slice(10)].reduce((n, ch) => n * 32n + BigInt(ALPHABET.indexOf(ch)), 0n);

test("an event handler skips records that can never be valid and passes the rest on", async () => {
  const seen: string[] = [];
  const invalid: string[] = [];
  const handler = eventHandler(
    mailAccepted,
    async (e) => {
      seen.push(e.id);
    },
    (err) => invalid.push(err.problem),
  );
  const msg = (value: Buffer) => ({ topic: "mail.received", partition: 0, offset: "0", key: null, value, headers: {}, timestamp: 0 });
  const good = sample();
  await handler(msg(encodeEvent(mailAccepted, good)));
  await handler(msg(Buffer.from("garbage")));
  assert.deepEqual(seen, [good.id]);
  assert.deepEqual(invalid, ["not JSON"]);
  assert.ok(new InvalidEvent("x", "y") instanceof Error);
});

test("mailbox.changed and mail.classified take the learning fields, and stay valid without them", async () => {
  const { mailboxChanged } = await import("@postline/events");
  const base = { v: 1, accountId: 1, mailboxId: 2, uid: 3, modseq: 4, kind: "append" } as const;
  assert.deepEqual(decodeEvent(mailboxChanged, { topic: "t", value: encodeEvent(mailboxChanged, base) }), base);
  const moved = { ...base, origin: "user", sourceMailboxId: 7 } as const;
  assert.deepEqual(decodeEvent(mailboxChanged, { topic: "t", value: encodeEvent(mailboxChanged, moved) }), moved);
  assert.throws(() => encodeEvent(mailboxChanged, { ...base, origin: "admin" } as never));

  const verdict: MailClassifiedInput["verdict"] = { action: "deliver", score: 1, symbols: [{ name: "BAYES_HAM", score: -1 }], authResults: "mx; none" };
  const classified: MailClassifiedInput = { ...sample(), source: "inbound", verdict };
  assert.equal(decodeEvent(mailClassified, { topic: "t", value: encodeEvent(mailClassified, classified) }).verdict.accounts, undefined);
  const accounts: NonNullable<MailClassifiedInput["verdict"]["accounts"]> = [
    { accountId: 5, action: "junk", score: 6, symbols: [{ name: "BAYES_USER_SPAM", score: 5, detail: "0.99" }] },
  ];
  const withAccounts: MailClassifiedInput = { ...classified, verdict: { ...verdict, accounts } };
  assert.deepEqual(decodeEvent(mailClassified, { topic: "t", value: encodeEvent(mailClassified, withAccounts) }).verdict.accounts, accounts);
  assert.throws(() => encodeEvent(mailClassified, { ...classified, verdict: { ...verdict, accounts: [{ ...accounts[0], accountId: 0 }] } } as never));
});
