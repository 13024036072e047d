import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { simpleMessage, smtpTransaction } from "@postline/testkit";
import { startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// DESIGN.md: no acknowledged message is lost when a process is killed at any moment, and none is
// delivered twice into a mailbox.
const TOTAL = 500;
const CONCURRENCY = 8;
let install: Installation;

before(async () => {
  install = await startInstallation();
});
after(async () => {
  await install?.stop();
});

test(`kill -9 of spam-filter and delivery while ${TOTAL} messages arrive: each accepted message is in its mailbox exactly once`, async () => {
  const accepted: string[] = [];
  const refused: string[] = [];
  let next = 0;
  // One crash at a time: a restart still starting must not be crashed (it would be left running).
  let crashes = Promise.resolve();
  const crashAt = new Map<number, string[]>([
    [80, ["spam-filter"]],
    [200, ["delivery"]],
    [330, ["spam-filter", "delivery"]],
  ]);

  const sender = async () => {
    while (next < TOTAL) {
      const i = next++;
      const to = i % 2 ? "alice@example.test" : "bob@example.test";
      const t = await smtpTransaction(install.mxPort, {
        from: "carol@good.test",
        to: [to],
        helo: "sender.good.test",
        data: simpleMessage({ from: "carol@good.test", to, subject: `crash test ${i}` }),
      });
      if (t.queueId) accepted.push(t.queueId);
      else refused.push(`${t.final.code} ${t.final.text}`);
      const victims = crashAt.get(accepted.length);
      if (victims) {
        crashAt.delete(accepted.length);
        crashes = crashes.then(async () => {
          for (const name of victims) await install.services.get(name)!.stop("SIGKILL");
          await new Promise((r) => setTimeout(r, 500));
          for (const name of victims) await install.restart(name);
        });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  await crashes;

  assert.deepEqual(refused, [], "inbound-mx was never killed: every message is accepted");
  assert.equal(accepted.length, TOTAL);
  const rows = await waitFor(
    "every accepted message delivered",
    async () => {
      const all = await storedMessages(install);
      return new Set(all.map((m) => m.mail_id)).size >= TOTAL ? all : undefined;
    },
    240_000,
  );
  const perMail = new Map<string, number>();
  for (const r of rows) perMail.set(r.mail_id, (perMail.get(r.mail_id) ?? 0) + 1);
  assert.deepEqual([...perMail.keys()].sort(), [...accepted].sort(), "exactly the accepted messages");
  assert.deepEqual([...new Set(perMail.values())], [1], "each exactly once");
  for (const address of ["alice@example.test", "bob@example.test"]) {
    const uids = rows.filter((r) => r.address === address).map((r) => r.uid);
    assert.equal(new Set(uids).size, uids.length, `${address}: no UID used twice`);
  }
});
