import type { Command } from "commander";
import type { BlobStore } from "@postline/blobstore";
import { messageOnlyInput } from "@postline/antispam";
import type { Db } from "@postline/db";
import { cliConfig } from "../config.ts";
import { CliError } from "../errors.ts";

/** What `postline spam classify` prints: the verdict as the spam filter would give it. */
export interface ClassifyOutput {
  action: "deliver" | "junk" | "quarantine" | "reject";
  score: number;
  symbols: Array<{ name: string; score: number; detail?: string }>;
}

export function registerSpamClassify(spam: Command): void {
  spam
    .command("classify")
    .description(
      "read one message on standard input and print its verdict as JSON ({ action, score, symbols }) with the current " +
        "models and lists in the database and the spam filter's settings (POSTLINE_SPAM_*). The message alone: no " +
        "envelope, no client, so no SPF/DKIM/DMARC and no client checks",
    )
    .option("--account <address>", "the verdict for this account (its own Bayes model and lists on top of the message's)")
    .action(async (opts: { account?: string }) => {
      if (process.stdin.isTTY) throw new CliError("spam classify reads the message on standard input, e.g. postline spam classify < message.eml");
      const raw = await readStdin();
      if (raw.length === 0) throw new CliError("no message on standard input");
      const config = cliConfig();
      const { openDirectDb } = await import("../direct-db.ts");
      const db = await openDirectDb(config, { migrate: config.POSTLINE_MIGRATE_ON_START });
      try {
        const verdict = await classifyMessage(db, raw, opts.account);
        process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
      } finally {
        await db.close();
      }
    });
}

/** The verdict of one message (for one account) with the spam filter's classifier on `db`. */
export async function classifyMessage(db: Db, raw: Buffer, account?: string): Promise<ClassifyOutput> {
  const [{ buildClassifier, spamFilterSchema }, { parseConfig, ConfigError }, { findAccount }, { createLogger, metricsRegistry }] = await Promise.all([
    import("@postline/spam-filter"),
    import("@postline/config"),
    import("@postline/directory"),
    import("@postline/telemetry"),
  ]);
  let settings;
  try {
    settings = parseConfig(spamFilterSchema);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`configuration error: ${err.message}`);
    throw err;
  }
  let accountId: number | undefined;
  if (account !== undefined) {
    const found = await findAccount(db, account);
    if (!found) throw new CliError(`no account ${account}`);
    accountId = found.id;
  }
  const { classifier } = buildClassifier({
    db,
    blobs: noBlobStore,
    settings,
    logger: createLogger("postline-cli", "silent"),
    registry: metricsRegistry(),
    messageOnly: true,
  });
  const result = await classifier.classify(messageOnlyInput(raw, accountId !== undefined ? [{ accountId, recipients: [account!] }] : undefined));
  for (const { rule, error } of result.errors) {
    process.stderr.write(`postline: warning: ${rule} failed: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  const verdict = accountId !== undefined ? result.accounts[0]! : result;
  return { action: verdict.action, score: verdict.score, symbols: verdict.symbols };
}

/** The CLI has no blob store (a message's verdict needs none); the policies get one that says so. */
const noBlobStore: BlobStore = {
  kind: "fs",
  put: () => Promise.reject(new Error("no blob store in postline spam classify")),
  get: () => Promise.reject(new Error("no blob store in postline spam classify")),
  getRange: () => Promise.reject(new Error("no blob store in postline spam classify")),
  stat: () => Promise.reject(new Error("no blob store in postline spam classify")),
  delete: () => Promise.reject(new Error("no blob store in postline spam classify")),
  ping: () => Promise.reject(new Error("no blob store in postline spam classify")),
};

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
