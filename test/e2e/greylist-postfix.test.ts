import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { simpleMessage, smtpTransaction, startPostfix } from "@postline/testkit";
import { readStored, startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// Greylisting against a real retrying MTA: Postfix from Debian relays to our MX (inbound-mx,
// spam-filter and delivery as processes on the real Kafka, PostgreSQL and MinIO). Postfix retries
// every second or two; the greylisting delay is 2 s and loopback is not exempt here.
let install: Installation;

before(async () => {
  install = await startInstallation({
    env: { POSTLINE_GREYLIST: "true", POSTLINE_GREYLIST_DELAY: "2", POSTLINE_GREYLIST_EXEMPT_PRIVATE: "false" },
  });
});
after(async () => {
  await install?.stop();
});

async function greylistOutcomes(): Promise<Record<string, number>> {
  const text = await (await fetch(`${install.services.get("inbound-mx")!.ops}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^postline_inbound_mx_greylist_total\{result="([a-z_]+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

test("Postfix is greylisted on its first attempt, retries, and the message lands in the mailbox", async () => {
  const postfix = await startPostfix({
    relayhost: `[127.0.0.1]:${install.mxPort}`,
    relayDomains: ["example.test"],
    main: { queue_run_delay: "1s", minimal_backoff_time: "1s", maximal_backoff_time: "2s" },
  });
  try {
    const message = simpleMessage({ from: "carol@good.test", to: "alice@example.test", subject: "Greylisted, then delivered" });
    const t = await smtpTransaction(postfix.port, { from: "carol@good.test", to: ["alice@example.test"], data: message });
    assert.equal(t.final.code, 250, t.final.text);
    await postfix.waitForEmptyQueue(60_000);
    const log = postfix.maillog();
    assert.match(log, /status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 451 4\.7\.1 <alice@example\.test>: Recipient address rejected: Greylisted, please try again in \d+ seconds/, log);
    const relayed = /status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)/.exec(log)?.[1];
    assert.ok(relayed, log);
    assert.ok(log.indexOf("status=deferred") < log.indexOf("status=sent"), "deferred first, sent on a retry");

    const [stored] = await waitFor(`message ${relayed} in a mailbox`, async () => {
      const rows = (await storedMessages(install)).filter((m) => m.mail_id === relayed);
      return rows.length > 0 ? rows : undefined;
    });
    assert.equal(stored!.address, "alice@example.test");
    assert.equal(stored!.mailbox, "INBOX");
    const text = (await readStored(install.blobs, stored!)).toString("utf8");
    assert.match(text, /^Subject: Greylisted, then delivered$/m);

    const outcomes = await greylistOutcomes();
    assert.equal(outcomes.greylisted_new, 1);
    assert.equal(outcomes.passed_retry, 1);
    const triplet = await install.database.db.query<{ sender: string; passed: boolean }>(
      "SELECT sender, passed_at IS NOT NULL AS passed FROM greylist_triplets WHERE network = '127.0.0.0/24' AND recipient = 'alice@example.test'",
    );
    assert.deepEqual(triplet.rows, [{ sender: "carol@good.test", passed: true }]);
  } finally {
    await postfix.stop();
  }
});

test("a second message on the same triplet is accepted on Postfix's first attempt", async () => {
  const postfix = await startPostfix({ relayhost: `[127.0.0.1]:${install.mxPort}`, relayDomains: ["example.test"] });
  try {
    const message = simpleMessage({ from: "carol@good.test", to: "alice@example.test", subject: "Second one" });
    const t = await smtpTransaction(postfix.port, { from: "carol@good.test", to: ["alice@example.test"], data: message });
    assert.equal(t.final.code, 250, t.final.text);
    await postfix.waitForEmptyQueue(60_000);
    const log = postfix.maillog();
    assert.doesNotMatch(log, /status=deferred/, log);
    const relayed = /status=sent \(250 2\.0\.0 Ok: queued as (\S+)\)/.exec(log)?.[1];
    assert.ok(relayed, log);
    await waitFor(`message ${relayed} in a mailbox`, async () => (await storedMessages(install)).some((m) => m.mail_id === relayed));
    const outcomes = await greylistOutcomes();
    assert.equal((outcomes.known ?? 0) + (outcomes.cached ?? 0), 1, JSON.stringify(outcomes));
  } finally {
    await postfix.stop();
  }
});
