/**
 * node --import tsx bench/spam/sa-rules.ts [OUT] — SpamAssassin's rules on every TRAIN message, for
 * tune.ts's SA_RULES (docs/spam-benchmark.md stage 20): what a rule set of SpamAssassin's size
 * would add beside our models. spamd as in the benchmark (local tests only, Bayes trained on TRAIN so
 * that SpamAssassin scores with its score set for use beside Bayes); the BAYES_* rules and their
 * points are left out, as our own models stand in for them. Writes JSON
 * `{ "<label> <file number>": { "score": n, "hits": ["RULE", …] } }` to OUT
 * (default .cache/spam/sa-train-rules.json).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { trainKey, trainSet } from "./corpus.ts";
import { mapLimit } from "./map-limit.ts";
import { startSpamAssassin, spamcRuleHits } from "./spamassassin.ts";

const out = process.argv[2] ?? ".cache/spam/sa-train-rules.json";
const train = trainSet();
const sa = await startSpamAssassin(train);
try {
  const started = performance.now();
  const results = await mapLimit(train, 4, (m) => spamcRuleHits(sa.port, m.bytes));
  const record: Record<string, { score: number; hits: string[] }> = {};
  train.forEach((m, i) => {
    const { score, hits } = results[i]!;
    const bayes = hits.filter((h) => h.name.startsWith("BAYES_"));
    const rules = hits.filter((h) => !h.name.startsWith("BAYES_"));
    record[trainKey(m)] = { score: score - bayes.reduce((sum, h) => sum + h.points, 0), hits: rules.map((h) => h.name).sort() };
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(record));
  console.log(`${train.length} messages in ${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`);
} finally {
  sa.stop();
}
