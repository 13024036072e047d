import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { simpleMessage, smtpTransaction, startMinio, type MinioInstance } from "@postline/testkit";
import { startInstallation, storedMessages, waitFor, type Installation } from "./support/installation.ts";

// Object storage stops in the middle of a stream of mail: clients get 451 (try again later), never
// 250 for a message that was not stored, and nothing accepted is lost.
let minio: MinioInstance;
let install: Installation;

before(async () => {
  minio = await startMinio();
  install = await startInstallation({
    env: { POSTLINE_S3_ENDPOINT: minio.endpoint, POSTLINE_S3_ACCESS_KEY: minio.accessKey, POSTLINE_S3_SECRET_KEY: minio.secretKey },
  });
});
after(async () => {
  await install?.stop();
  await minio?.destroy();
});

test("MinIO stopped mid-stream: 451 4.3.0 while it is down, every 250 delivered after it is back", async () => {
  const accepted: string[] = [];
  const deferred: string[] = [];
  const other: string[] = [];
  const send = async (i: number) => {
    const t = await smtpTransaction(install.mxPort, {
      from: "carol@good.test",
      to: ["alice@example.test"],
      helo: "sender.good.test",
      data: simpleMessage({ from: "carol@good.test", to: "alice@example.test", subject: `storage ${i}` }),
    });
    if (t.queueId) accepted.push(t.queueId);
    else if (t.final.code === 451 && /^4\.3\.0/.test(t.final.text)) deferred.push(t.final.text);
    else other.push(`${t.final.code} ${t.final.text}`);
  };
  let i = 0;
  for (; i < 30; i++) await send(i);
  await minio.stop(true);
  for (; i < 45; i++) await send(i);
  await minio.start();
  for (; i < 60; i++) await send(i);

  assert.deepEqual(other, [], "no other replies than 250 and 451");
  assert.equal(deferred.length, 15, "every message sent while storage was down was deferred");
  assert.equal(accepted.length, 45, "every message sent while storage was up was accepted");
  const rows = await waitFor(
    "every accepted message delivered",
    async () => {
      const all = await storedMessages(install);
      return all.length >= accepted.length ? all : undefined;
    },
    120_000,
  );
  assert.deepEqual(rows.map((r) => r.mail_id).sort(), [...accepted].sort());
});
