import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { buildAdminApi, type QueueMessageView, type QueueRecipientView, type QueueSummaryView } from "@postline/admin-api";
import { allTopics, openBus, retryTopic, type Bus, type Consumer } from "@postline/bus";
import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { json, runCli } from "./run-cli.ts";

// `postline queue` against a running admin API (with an embedded bus for "retry now").
const TOKEN = "cli-queue-token-0123456789";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
let t: TestDatabase;
let bus: Bus;
let consumer: Consumer;
let app: ReturnType<typeof buildAdminApi>;
let env: Record<string, string>;
const retried: { key: string | null; rcpt: string }[] = [];

before(async () => {
  t = await createTestDatabase();
  bus = openBus({ kind: "embedded", db: t.db, pollIntervalMs: 25, heartbeatIntervalMs: 150, trimIntervalMs: 0, logger: quiet });
  await bus.createTopics(allTopics(2));
  consumer = await bus.consume({
    groupId: "cli-queue-test",
    topics: [retryTopic("1m")],
    handler: async (m) => {
      retried.push({ key: m.key, rcpt: (JSON.parse(m.value.toString("utf8")) as { rcpt: string }).rcpt });
    },
  });
  app = buildAdminApi({ db: t.db, bus, token: TOKEN });
  env = { POSTLINE_ADMIN_URL: await app.listen({ host: "127.0.0.1", port: 0 }), POSTLINE_ADMIN_TOKEN: TOKEN };
});
after(async () => {
  await consumer.stop();
  await app.close();
  await bus.close();
  await t.drop();
});

/** A mail id of the ULID form the API accepts (the CLI package does not load @postline/events). */
function newMailId(): string {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  return "0" + Array.from({ length: 25 }, () => alphabet[Math.floor(Math.random() * 32)]).join("");
}

let counter = 0;
/** An outbound message with remote recipients, as remote delivery records it. */
async function queued(rcpts: { rcpt: string; status?: string; attempts?: number; lastError?: string; remoteReply?: string }[]): Promise<string> {
  const id = newMailId();
  const key = (0xc000 + ++counter).toString(16).padStart(64, "0");
  await t.db.transaction(async (tx) => {
    await tx.query("INSERT INTO blobs (hash, size, refcount) VALUES ($1, 3000, 1)", [key]);
    await tx.query(
      `INSERT INTO outbound_messages (mail_id, source, sender, blob_key, size, envelope, received_at, expires_at)
       VALUES ($1, 'submission', 'alice@local.test', $2, 3000, $3, now(), now() + interval '5 days')`,
      [id, key, JSON.stringify({ smtpUtf8: false, body: "8BITMIME", dsn: { ret: "HDRS", envid: "abc", rcpt: {} } })],
    );
    for (const r of rcpts) {
      await tx.query(
        `INSERT INTO deliveries (mail_id, recipient, sender, status, attempts, last_error, remote_reply, next_attempt_at, domain, remote_host, last_attempt_at)
         VALUES ($1, $2, 'alice@local.test', $3, $4, $5, $6, CASE WHEN $3 = 'deferred' THEN now() + interval '1 hour' END, $7,
                 CASE WHEN $4 > 0 THEN 'mx.' || $7 || ' [127.0.0.1]' END, CASE WHEN $4 > 0 THEN now() END)`,
        [id, r.rcpt, r.status ?? "queued", r.attempts ?? 0, r.lastError ?? null, r.remoteReply ?? null, r.rcpt.split("@")[1]],
      );
    }
  });
  return id;
}

describe("postline queue through the admin API", () => {
  let a: string;
  let b: string;
  before(async () => {
    a = await queued([{ rcpt: "x@slow.test", status: "deferred", attempts: 2, lastError: "451 4.7.1 greylisted" }, { rcpt: "y@slow.test" }]);
    b = await queued([{ rcpt: "z@fast.test", status: "delivered", attempts: 1, remoteReply: "250 2.0.0 queued as 123" }, { rcpt: "w@slow.test" }]);
  });

  test("list: a table of the live queue; --status, --domain, --limit, --json", async () => {
    const r = await runCli(["queue", "list"], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^MAIL ID\s+RECIPIENT\s+STATUS\s+ATTEMPTS\s+NEXT ATTEMPT\s+LAST ERROR \/ REPLY$/);
    assert.equal(lines.length, 4);
    assert.match(lines[1]!, new RegExp(`^${b}\\s+w@slow\\.test\\s+queued\\s+0\\s+-$`));
    assert.match(lines[2]!, new RegExp(`^${a}\\s+y@slow\\.test\\s+queued\\s+0\\s+-$`));
    assert.match(lines[3]!, new RegExp(`^${a}\\s+x@slow\\.test\\s+deferred\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+451 4\\.7\\.1 greylisted$`));

    const delivered = await runCli(["queue", "list", "--status", "delivered", "--domain", "fast.test"], env);
    assert.match(delivered.stdout, new RegExp(`^${b}\\s+z@fast\\.test\\s+delivered\\s+1\\s+-\\s+250 2\\.0\\.0 queued as 123$`, "m"));
    assert.equal(delivered.stdout.trimEnd().split("\n").length, 2);

    const page = await runCli(["queue", "list", "--status", "all", "--limit", "2"], env);
    const next = /^more: postline queue list --before (\d+)$/m.exec(page.stdout)?.[1];
    assert.ok(next, page.stdout);
    const asJson = json<{ queue: QueueRecipientView[]; next: string | null }>(await runCli(["--json", "queue", "list", "--status", "all", "--before", next], env));
    assert.deepEqual(asJson.queue.map((x) => x.recipient), ["y@slow.test", "x@slow.test"]);
    assert.equal(asJson.next, null);

    assert.equal((await runCli(["queue", "list", "--domain", "nowhere.test"], env)).stdout, "the queue is empty\n");
  });

  test("summary: counts and the domains where the queue waits", async () => {
    const r = await runCli(["queue", "summary"], env);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "queued 2  deferred 1  (sending now 0)  delivered 1  bounced 0  deleted 0");
    assert.match(lines[2]!, /^DOMAIN\s+WAITING\s+QUEUED\s+DEFERRED\s+SENDING\s+OLDEST\s+LAST ERROR$/);
    assert.match(lines[3]!, /^slow\.test\s+3\s+2\s+1\s+0\s+\S+ \S+Z\s+451 4\.7\.1 greylisted$/);
    assert.equal(lines.length, 4);
    const s = json<QueueSummaryView>(await runCli(["--json", "queue", "summary"], env));
    assert.deepEqual(s.counts, { queued: 2, deferred: 1, delivered: 1, bounced: 0, deleted: 0 });
  });

  test("show: the message and its recipients", async () => {
    const r = await runCli(["queue", "show", b], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^mail id:  ${b}\n`));
    assert.match(r.stdout, /^sender: {3}alice@local\.test$/m);
    assert.match(r.stdout, /^size: {5}2\.93 KiB$/m);
    assert.match(r.stdout, /^body: {5}8BITMIME$/m);
    assert.match(r.stdout, /^dsn: {6}RET=HDRS ENVID=abc$/m);
    assert.match(r.stdout, /^RECIPIENT\s+STATUS\s+ATTEMPTS\s+LAST ATTEMPT\s+NEXT ATTEMPT\s+HOST\s+LAST ERROR \/ REPLY$/m);
    assert.match(r.stdout, /^z@fast\.test\s+delivered\s+1\s+\S+ \S+Z\s+-\s+mx\.fast\.test \[127\.0\.0\.1\]\s+250 2\.0\.0 queued as 123$/m);
    assert.match(r.stdout, /^w@slow\.test\s+queued\s+0\s+-\s+-\s+-$/m);
    const m = json<QueueMessageView>(await runCli(["--json", "queue", "show", b], env));
    assert.deepEqual(m.recipients.map((x) => x.recipient), ["z@fast.test", "w@slow.test"]);
  });

  test("retry and delete, with --recipient", async () => {
    const r = await runCli(["queue", "retry", a, "--recipient", "x@slow.test"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `retrying 1 recipient of ${a} now: x@slow.test\n`);
    const deadline = Date.now() + 10_000;
    while (!retried.some((e) => e.key === a) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(retried.filter((e) => e.key === a).map((e) => e.rcpt), ["x@slow.test"]);

    const all = await runCli(["queue", "retry", a], env);
    assert.equal(all.stdout, `retrying 2 recipients of ${a} now: x@slow.test, y@slow.test\n`);

    const d = await runCli(["queue", "delete", a, "--recipient", "y@slow.test"], env);
    assert.equal(d.stdout, `deleted 1 recipient of ${a} from the queue (no DSN): y@slow.test\n`);
    const rest = json<QueueRecipientView[]>(await runCli(["--json", "queue", "delete", a], env));
    assert.deepEqual(rest.map((x) => [x.recipient, x.status, x.lastError]), [["x@slow.test", "deleted", "deleted by an operator"]]);
    assert.match((await runCli(["queue", "list", "--status", "deleted"], env)).stdout, /x@slow\.test\s+deleted\s+2\s+-\s+deleted by an operator/);
  });

  test("errors: one line, exit code 1", async () => {
    const unknown = newMailId();
    const missing = await runCli(["queue", "show", unknown], env);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `postline: no outbound message ${unknown}\n`);
    const done = await runCli(["queue", "delete", a], env);
    assert.equal(done.code, 1);
    assert.match(done.stderr, new RegExp(`^postline: no recipient of message ${a} is waiting in the queue to be deleted`));
    const badStatus = await runCli(["queue", "list", "--status", "stuck"], env);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /^postline: .*status/);
    const badLimit = await runCli(["queue", "list", "--limit", "0"], env);
    assert.equal(badLimit.code, 1);
    assert.match(badLimit.stderr, /1 to 1000/);
    const noApi = await runCli(["queue", "list"], { POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: t.url });
    assert.equal(noApi.code, 1);
    assert.equal(noApi.stderr, "postline: postline queue works through the admin API: set POSTLINE_ADMIN_URL and POSTLINE_ADMIN_TOKEN\n");
  });
});
