import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { addDomain, createAccount } from "@postline/directory";
import {
  SmtpClient,
  clusterEnv,
  createTestDatabase,
  freeSharedPort,
  sendTransaction,
  simpleMessage,
  smtpTransaction,
  startDnsServer,
  startServiceProcess,
  startSmtpSink,
  type DnsServer,
  type ServiceProcess,
  type SmtpSink,
  type TestDatabase,
} from "@postline/testkit";
import { dashboards, renderDashboard } from "./dashboards.ts";
import { startPrometheus, type Prometheus } from "./support/prometheus.ts";

// The Prometheus rules and Grafana dashboards, checked for real: promtool checks and unit-tests the
// rules; then every service runs as its own process on the real Kafka, PostgreSQL and MinIO, mail
// goes in over SMTP (inbound-mx and submission), out to real receiving MTAs (Postfix smtp-sink:
// one accepts, one defers, one refuses), and is read over IMAP and POP3 (curl), while a real
// Prometheus scrapes the services every second. Every dashboard query and every alert expression
// is then evaluated through Prometheus's HTTP API.

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const run = promisify(execFile);
const SERVICES = ["delivery", "spam-filter", "inbound-mx", "submission", "imap-pop3", "admin-api"] as const;
const PASSWORD = "observability-password-1";

interface DashboardTarget {
  dashboard: string;
  panel: string;
  expr: string;
  legendFormat: string;
}

function dashboardFiles(dir: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) out[file] = JSON.parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>;
  return out;
}

function dashboardTargets(): DashboardTarget[] {
  const out: DashboardTarget[] = [];
  for (const [file, model] of Object.entries(dashboardFiles(join(REPO, "deploy/grafana")))) {
    for (const p of model.panels as Array<{ type: string; title: string; targets?: Array<{ expr: string; legendFormat: string }> }>) {
      if (p.type === "row") continue;
      for (const t of p.targets ?? []) out.push({ dashboard: file, panel: p.title, expr: t.expr, legendFormat: t.legendFormat });
    }
  }
  return out;
}

/** Grafana's template variables as a short test run needs them. */
function substitute(expr: string): string {
  return expr
    .replaceAll("$__rate_interval", "30s")
    .replaceAll("$__interval", "5s")
    .replaceAll("$__range", "10m")
    .replaceAll("${instance}", ".+")
    .replaceAll("$instance", ".+");
}

interface Rule {
  alert?: string;
  expr: string;
}

/** The alerts of rules.yml with their expressions. */
function alertRules(): Rule[] {
  // rules.yml keeps every expr as a `|` block under `- alert: Name`; read them without a YAML dependency.
  const lines = readFileSync(join(REPO, "deploy/prometheus/rules.yml"), "utf8").split("\n");
  const rules: Rule[] = [];
  for (let i = 0; i < lines.length; i++) {
    const alert = /^\s*- alert: (\S+)/.exec(lines[i]!)?.[1];
    if (!alert) continue;
    const exprLine = lines.findIndex((l, j) => j > i && /^\s*expr: /.test(l));
    const inline = /^\s*expr: (?!\|)(.+)$/.exec(lines[exprLine]!)?.[1];
    if (inline) {
      rules.push({ alert, expr: inline });
      continue;
    }
    const indent = /^(\s*)/.exec(lines[exprLine + 1]!)![1]!.length;
    const body: string[] = [];
    for (let j = exprLine + 1; j < lines.length && (lines[j]!.trim() === "" || /^(\s*)/.exec(lines[j]!)![1]!.length >= indent); j++) body.push(lines[j]!.slice(indent));
    rules.push({ alert, expr: body.join("\n").trim() });
  }
  return rules;
}

before(async () => {
  await run("bash", [join(REPO, "deploy/local/prometheus.sh")], { maxBuffer: 16 << 20 });
});

test("promtool: the rules are valid and their unit tests pass (each alert fires on its synthetic series, quiet otherwise)", async () => {
  const dir = join(REPO, "deploy/prometheus");
  const check = await run("promtool", ["check", "rules", "rules.yml"], { cwd: dir });
  assert.match(check.stdout, /SUCCESS: 8 rules found/);
  const unit = await run("promtool", ["test", "rules", "rules.test.yml"], { cwd: dir });
  assert.match(unit.stdout, /SUCCESS/);
  const rules = alertRules();
  assert.deepEqual(rules.map((r) => r.alert).sort(), [
    "PostlineAuthFailureSpike",
    "PostlineBounceRateHigh",
    "PostlineConsumerLagHigh",
    "PostlineDeliveryFailureRate",
    "PostlineOutboundQueueGrowing",
    "PostlineServiceDown",
    "PostlineTlsCertificateExpired",
    "PostlineTlsCertificateExpiringSoon",
  ]);
  // Every alert has a runbook entry.
  const ops = readFileSync(join(REPO, "docs/operations.md"), "utf8");
  const text = readFileSync(join(dir, "rules.yml"), "utf8");
  for (const r of rules) {
    assert.match(ops, new RegExp(`^### ${r.alert}$`, "m"), `docs/operations.md has a section for ${r.alert}`);
    assert.ok(text.includes(`docs/operations.md#${r.alert!.toLowerCase()}`), `${r.alert} has its runbook_url`);
  }
  assert.equal(readFileSync(join(REPO, "helm/postline/files/prometheus-rules.yml"), "utf8"), text, "the chart's copy of the rules is current");
});

test("the dashboards are what the generator makes, in deploy/grafana and the chart, with a Prometheus datasource variable", () => {
  const generated = dashboards();
  for (const dir of ["deploy/grafana", "helm/postline/files/dashboards"]) {
    const files = dashboardFiles(join(REPO, dir));
    assert.deepEqual(Object.keys(files).sort(), Object.keys(generated).sort(), dir);
    for (const [file, model] of Object.entries(generated)) {
      assert.equal(readFileSync(join(REPO, dir, file), "utf8"), renderDashboard(model), `${dir}/${file} is current (node --import tsx test/observability/generate-dashboards.ts)`);
    }
  }
  const uids = new Set<string>();
  for (const model of Object.values(generated)) {
    assert.ok((model.schemaVersion as number) >= 36);
    uids.add(model.uid as string);
    const vars = (model.templating as { list: Array<{ name: string; type: string; query: unknown }> }).list;
    assert.deepEqual(vars.find((v) => v.name === "datasource"), { ...vars.find((v) => v.name === "datasource"), type: "datasource", query: "prometheus" });
    const ids = new Set<number>();
    for (const p of model.panels as Array<{ id: number; type: string; datasource?: { uid: string } }>) {
      assert.ok(!ids.has(p.id), `panel ids are unique in ${model.uid as string}`);
      ids.add(p.id);
      if (p.type !== "row") assert.equal(p.datasource?.uid, "${datasource}");
    }
  }
  assert.equal(uids.size, Object.keys(generated).length, "dashboard uids are unique");
});

// ---- the live check

let database: TestDatabase | undefined;
let dns: DnsServer | undefined;
const sinks: SmtpSink[] = [];
const services = new Map<string, ServiceProcess>();
let prometheus: Prometheus | undefined;

after(async () => {
  await prometheus?.stop();
  for (const name of [...SERVICES].reverse()) await services.get(name)?.stop("SIGKILL");
  for (const s of sinks) await s.stop();
  await dns?.stop();
  await database?.drop();
});

function portOf(url: string | undefined): number {
  const port = /:(\d+)\/?$/.exec(url ?? "")?.[1];
  if (!port) throw new Error(`no port in ${url}`);
  return Number(port);
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test("every dashboard query and alert expression evaluates on a real Prometheus scraping the services under real mail traffic", async (t) => {
  // Receiving MTAs on one port, three loopback addresses: accepts, defers (450 at RCPT), refuses (550 at RCPT).
  const smtpPort = await freeSharedPort(["127.0.0.2", "127.0.0.3", "127.0.0.4"]);
  sinks.push(await startSmtpSink({ address: "127.0.0.2", port: smtpPort }));
  sinks.push(await startSmtpSink({ address: "127.0.0.3", port: smtpPort, softReject: ["RCPT"], softReply: "450 4.2.0 Try again later" }));
  sinks.push(await startSmtpSink({ address: "127.0.0.4", port: smtpPort, hardReject: ["RCPT"], hardReply: "550 5.1.1 No such user" }));
  database = await createTestDatabase();
  await addDomain(database.db, "example.test");
  await createAccount(database.db, { address: "alice@example.test", password: PASSWORD });
  await createAccount(database.db, { address: "bob@example.test", password: PASSWORD });
  dns = await startDnsServer({
    hosts: { "mx.example.test": "127.0.0.1", "sender.good.test": "127.0.0.1", "mx.accept.test": "127.0.0.2", "mx.tempfail.test": "127.0.0.3", "mx.reject.test": "127.0.0.4" },
    mx: { "example.test": "mx.example.test", "accept.test": "mx.accept.test", "tempfail.test": "mx.tempfail.test", "reject.test": "mx.reject.test" },
    txt: { "good.test": "v=spf1 ip4:127.0.0.1 -all" },
  });
  const env = clusterEnv(database.url, {
    POSTLINE_HOSTNAME: "mx.example.test",
    POSTLINE_DNS_SERVERS: dns.address,
    POSTLINE_MX_HOST: "127.0.0.1",
    POSTLINE_MX_PORT: "0",
    POSTLINE_MX_MAX_SIZE: "100000",
    POSTLINE_SUBMISSION_HOST: "127.0.0.1",
    POSTLINE_SUBMISSION_PORT: "0",
    POSTLINE_SUBMISSIONS_PORT: "0",
    POSTLINE_IMAP_HOST: "127.0.0.1",
    POSTLINE_IMAP_PORT: "0",
    POSTLINE_IMAPS_PORT: "0",
    POSTLINE_POP3_PORT: "0",
    POSTLINE_POP3S_PORT: "0",
    POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH: "true",
    POSTLINE_ADMIN_HOST: "127.0.0.1",
    POSTLINE_ADMIN_PORT: "0",
    POSTLINE_ADMIN_TOKEN: "observability-test-admin-token",
    POSTLINE_OPS_HOST: "127.0.0.1",
    POSTLINE_DELIVERY_SMTP_PORT: String(smtpPort),
    POSTLINE_DELIVERY_RETRY_SCHEDULE: "2s,2s,4s",
    POSTLINE_DELIVERY_LEASE_SECONDS: "5",
    POSTLINE_DELIVERY_SWEEP_SECONDS: "2",
    POSTLINE_DELIVERY_CONNECT_TIMEOUT_SECONDS: "5",
  });
  for (const name of SERVICES) services.set(name, await startServiceProcess(name, env));
  const started = [...services.values()];

  prometheus = await startPrometheus({
    targets: Object.fromEntries(started.map((s) => [`postline-${s.name}`, `127.0.0.1:${portOf(s.ops)}`])),
    ruleFiles: [join(REPO, "deploy/prometheus/rules.yml")],
  });

  // Inbound: two messages to alice, one to bob, one refused recipient.
  const mx = portOf(services.get("inbound-mx")!.listening["inbound-mx"]!.smtp);
  for (const [to, subject] of [["alice@example.test", "First"], ["alice@example.test", "Second"], ["bob@example.test", "Third"]] as const) {
    const t = await smtpTransaction(mx, { from: "carol@good.test", to: [to], helo: "sender.good.test", data: simpleMessage({ from: "carol@good.test", to, subject }) });
    assert.equal(t.final.code, 250, t.final.text);
  }
  const unknown = await smtpTransaction(mx, { from: "carol@good.test", to: ["nobody@example.test"], helo: "sender.good.test", data: simpleMessage({ from: "carol@good.test", to: "nobody@example.test", subject: "x" }) });
  assert.equal(unknown.final.code, 550);
  const huge = simpleMessage({ from: "carol@good.test", to: "bob@example.test", subject: "Too big", body: `${"x".repeat(76)}\r\n`.repeat(2000) });
  const tooLarge = await smtpTransaction(mx, { from: "carol@good.test", to: ["bob@example.test"], helo: "sender.good.test", data: huge });
  assert.equal(tooLarge.final.code, 552, tooLarge.final.text);

  // Submission: a failed login, then alice sends to a local and three remote recipients.
  const submissionPort = portOf(services.get("submission")!.listening.submission!.submission);
  const c = await SmtpClient.connect(submissionPort);
  assert.equal((await c.read()).code, 220);
  assert.equal((await c.command("EHLO client.example.test")).code, 250);
  assert.equal((await c.command("STARTTLS")).code, 220);
  await c.startTls();
  assert.equal((await c.command("EHLO client.example.test")).code, 250);
  const bad = await c.command(`AUTH PLAIN ${Buffer.from("\0alice@example.test\0wrong password").toString("base64")}`);
  assert.equal(bad.code, 535, bad.raw);
  const good = await c.command(`AUTH PLAIN ${Buffer.from(`\0alice@example.test\0${PASSWORD}`).toString("base64")}`);
  assert.equal(good.code, 235, good.raw);
  const notHers = await sendTransaction(c, { from: "mallory@accept.test", to: ["someone@accept.test"], message: simpleMessage({ from: "mallory@accept.test", to: "someone@accept.test", subject: "x" }) });
  assert.equal(notHers.code, 553, notHers.raw);
  const rcpts = ["bob@example.test", "someone@accept.test", "someone@tempfail.test", "someone@reject.test"];
  const sent = await sendTransaction(c, { from: "alice@example.test", to: rcpts, message: simpleMessage({ from: "alice@example.test", to: rcpts.join(", "), subject: "Outbound" }) });
  assert.equal(sent.code, 250, sent.raw);
  await c.quit();

  // Read: alice's mail over IMAP and POP3 once it is there (the DSN for reject.test comes to her too).
  await waitFor("alice's three messages (two inbound, one DSN)", async () => {
    const r = await database!.db.query<{ n: string }>("SELECT count(*) AS n FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN accounts a ON a.id = b.account_id WHERE a.address = 'alice@example.test'");
    return Number(r.rows[0]!.n) >= 3;
  });
  const listening = services.get("imap-pop3")!.listening["imap-pop3"]!;
  const imap = portOf(listening.imap);
  const pop3 = portOf(listening.pop3);
  const fetched = await run("curl", ["-sS", "--max-time", "20", "--user", `alice@example.test:${PASSWORD}`, `imap://127.0.0.1:${imap}/INBOX;UID=1`]);
  assert.match(fetched.stdout, /^Subject: First/m);
  await assert.rejects(run("curl", ["-sS", "--max-time", "20", "--user", "alice@example.test:not-the-password", `imap://127.0.0.1:${imap}/INBOX;UID=1`]));
  const popped = await run("curl", ["-sS", "--max-time", "20", "--user", `alice@example.test:${PASSWORD}`, `pop3://127.0.0.1:${pop3}/1`]);
  assert.match(popped.stdout, /^Subject: /m);
  await assert.rejects(run("curl", ["-sS", "--max-time", "20", "--user", "alice@example.test:not-the-password", `pop3://127.0.0.1:${pop3}/1`]));

  // Remote outcomes: accepted by one MTA, deferred by one, refused by one (then a DSN).
  await waitFor("the remote delivery to accept.test", async () => sinks[0]!.messages().length >= 1);

  // Prometheus has the whole run; every target has been scraped several times.
  const p = prometheus;
  await waitFor("three scrapes of every target", async () => {
    const r = await p.query(`count_over_time(up{job=~"postline-.*"}[1m]) >= 3`);
    return r.data.result.length === SERVICES.length;
  });
  const upNow = await p.query("up == 1");
  assert.equal(upNow.data.result.length, SERVICES.length, JSON.stringify(upNow.data.result.map((r) => r.metric)));

  // Every dashboard query: valid, and (after the traffic above has been scraped) returning series.
  const targets = dashboardTargets();
  // A query that returns series must also carry the labels its legend shows (a misspelt label in
  // `sum by (...)` still returns a series, without the label).
  const empty = new Map<string, DashboardTarget>();
  const unlabelled = new Map<string, string>();
  const invalid: string[] = [];
  await waitFor(
    "every dashboard query to return series",
    async () => {
      empty.clear();
      unlabelled.clear();
      for (const target of targets) {
        const r = await p.query(substitute(target.expr));
        if (r.status !== "success") invalid.push(`${target.dashboard} / ${target.panel}: ${r.error ?? r.status}: ${target.expr}`);
        else if (r.data.result.length === 0) empty.set(target.expr, target);
        else {
          const labels = [...target.legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!);
          const absent = labels.filter((l) => !r.data.result.some((series) => series.metric[l]));
          if (absent.length > 0 && !target.expr.includes("or vector(0)")) unlabelled.set(target.expr, `${target.dashboard} / ${target.panel}: no series has ${absent.join(", ")}: ${target.expr}`);
        }
      }
      return invalid.length > 0 || (empty.size === 0 && unlabelled.size === 0);
    },
    45_000,
  ).catch(() => undefined);
  const panels = new Set(targets.map((x) => `${x.dashboard}/${x.panel}`));
  t.diagnostic(`${Object.keys(dashboards()).length} dashboards, ${panels.size} panels, ${targets.length} queries: ${invalid.length} invalid, ${empty.size} without series, ${unlabelled.size} without their legend's labels`);
  assert.deepEqual(invalid, [], "every dashboard query is valid PromQL");
  const missing = [...empty.values()].map((x) => `${x.dashboard} / ${x.panel}: ${x.expr}`);
  assert.deepEqual(missing, [], `${missing.length} of ${targets.length} dashboard queries return no series`);
  assert.deepEqual([...unlabelled.values()], [], "every query's series have the labels its legend shows");

  // Every alert expression: valid; Prometheus loaded the rules and evaluates them without error;
  // none fires on a healthy installation.
  for (const rule of alertRules()) {
    const r = await p.query(rule.expr);
    assert.equal(r.status, "success", `${rule.alert}: ${r.error}`);
    assert.deepEqual(r.data.result, [], `${rule.alert} is quiet on a healthy installation`);
  }
  const alerts = await waitFor("Prometheus to evaluate every rule", async () => {
    const loaded = (await p.rules()).flatMap((g) => g.rules);
    return loaded.length > 0 && loaded.every((a) => a.health !== "unknown") ? loaded : undefined;
  });
  assert.equal(alerts.length, 8);
  for (const a of alerts) {
    assert.equal(a.health, "ok", `${a.name}: ${a.lastError ?? ""}`);
    assert.equal(a.state, "inactive", a.name);
  }
  t.diagnostic(`${alerts.length} alert rules loaded by Prometheus, all evaluated without error and inactive`);
});
