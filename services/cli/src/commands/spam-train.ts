import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { cliConfig } from "../config.ts";
import { CliError } from "../errors.ts";
import { emit, table } from "../output.ts";
import { wantsJson } from "./common.ts";

type Outcome = "learned" | "relearned" | "already";
type Counts = Record<Outcome, number>;

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `postline spam train --spam PATH --ham PATH [--account ADDRESS]`: trains the global Bayes model
 * (or an account's) from messages on disk, spam and ham interleaved (trainingOrder: the global
 * model's logistic regression learns online). Each message is keyed by the SHA-256 of its bytes, so
 * training the same files again counts nothing twice, and a file moved from --ham to --spam is
 * a correction (relearned).
 */
export function registerSpamTrain(spam: Command): void {
  spam
    .command("train")
    .description("train the Bayes model from messages: a file, an mbox, a Maildir (cur/ and new/) or a directory of files (repeatable)")
    .option("--spam <path>", "spam messages (repeatable)", collect, [] as string[])
    .option("--ham <path>", "legitimate messages (repeatable)", collect, [] as string[])
    .option("--account <address>", "train this account's model instead of the global one")
    .action(async (opts: { spam: string[]; ham: string[]; account?: string }, cmd: Command) => {
      if (opts.spam.length === 0 && opts.ham.length === 0) throw new CliError("give at least one --spam or --ham path");
      const sources = { spam: opts.spam.map(messagesAt), ham: opts.ham.map(messagesAt) }; // read errors before opening the database
      const config = cliConfig();
      const [{ openDirectDb }, { BayesStore, bayesTokens, messageKeyOf, parseContent, trainingOrder }] = await Promise.all([
        import("../direct-db.ts"),
        import("@postline/antispam"),
      ]);
      const db = await openDirectDb(config, { migrate: true });
      try {
        let accountId: number | null = null;
        if (opts.account) {
          const r = await db.query<{ id: number }>("SELECT id FROM accounts WHERE address = $1", [opts.account.toLowerCase()]);
          if (!r.rows[0]) throw new CliError(`no account ${opts.account}`);
          accountId = r.rows[0].id;
        }
        const store = new BayesStore(db);
        const counts: Record<"spam" | "ham", Counts> = { spam: zero(), ham: zero() };
        const all = (["spam", "ham"] as const).flatMap((cls) => sources[cls].flat().map((bytes) => ({ cls, bytes })));
        for (const { cls, bytes } of trainingOrder(all)) {
          const content = await parseContent(bytes, 4 * 1024 * 1024);
          counts[cls][await store.learn(accountId, messageKeyOf(bytes), cls, bayesTokens(content))]++;
        }
        const model = await store.stats(accountId);
        const result = { model: opts.account ? opts.account.toLowerCase() : "global", spam: counts.spam, ham: counts.ham, totals: model };
        emit(wantsJson(cmd), result, () =>
          [
            table(
              ["class", "learned", "relearned", "already"],
              (["spam", "ham"] as const).map((c) => [c, String(counts[c].learned), String(counts[c].relearned), String(counts[c].already)]),
            ),
            `${result.model} model: ${model.spam} spam, ${model.ham} ham, ${model.tokens} tokens`,
          ].join("\n"),
        );
      } finally {
        await db.close();
      }
    });
}

function zero(): Counts {
  return { learned: 0, relearned: 0, already: 0 };
}

/** The messages at a path: a Maildir, a directory of message (or mbox) files, or one file (an mbox when it starts with "From "). */
export function messagesAt(path: string): Buffer[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  if (!stat.isDirectory()) return messagesInFile(readFileSync(path));
  const isMaildir = ["cur", "new"].some((d) => statSync(join(path, d), { throwIfNoEntry: false })?.isDirectory());
  const dirs = isMaildir ? ["cur", "new"].map((d) => join(path, d)).filter((d) => statSync(d, { throwIfNoEntry: false })?.isDirectory()) : [path];
  const out: Buffer[] = [];
  for (const dir of dirs) {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".")) continue;
      const file = join(dir, name);
      if (statSync(file).isFile()) out.push(...messagesInFile(readFileSync(file)));
    }
  }
  return out;
}

function messagesInFile(bytes: Buffer): Buffer[] {
  if (bytes.length === 0) return [];
  return bytes.subarray(0, 5).toString("latin1") === "From " ? splitMbox(bytes) : [bytes];
}

/** Splits an mbox on its "From " lines and unescapes ">From " (mboxrd: one ">" less on any ">…>From " line). */
export function splitMbox(bytes: Buffer): Buffer[] {
  const text = bytes.toString("latin1");
  const messages: Buffer[] = [];
  const lines = text.split("\n");
  let current: string[] | null = null;
  const flush = () => {
    if (!current) return;
    while (current.length > 0 && current[current.length - 1]!.replace(/\r$/, "") === "") current.pop(); // the blank line before the next "From "
    if (current.length > 0) messages.push(Buffer.from(`${current.join("\n")}\n`, "latin1"));
  };
  for (const line of lines) {
    if (line.startsWith("From ")) {
      flush();
      current = [];
      continue;
    }
    if (current) current.push(/^>+From /.test(line) ? line.slice(1) : line);
  }
  flush();
  return messages;
}
