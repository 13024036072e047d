import { defaultExpiryOptions } from "@postline/antispam/expiry";
import type { Command } from "commander";
import { cliConfig } from "../config.ts";
import { CliError } from "../errors.ts";
import { emit } from "../output.ts";
import { wantsJson } from "./common.ts";

/**
 * `postline spam expire [--days N] [--max-count N] [--record-days N]`: drops the Bayes models' rare
 * old tokens and old learned-message records now (the spam filter also does it periodically,
 * POSTLINE_SPAM_BAYES_EXPIRE_*). Defaults: the spam filter's (defaultExpiryOptions).
 */
export function registerSpamExpire(spam: Command): void {
  spam
    .command("expire")
    .description(
      "drop Bayes tokens seen in at most --max-count learned messages and not learned for --days days, and records of " +
        "messages learned more than --record-days days ago (0 days = keep), in every model",
    )
    .option("--days <n>", `token age in days (default ${defaultExpiryOptions.tokenDays})`)
    .option("--max-count <n>", `only tokens in at most this many learned messages (default ${defaultExpiryOptions.maxCount})`)
    .option("--record-days <n>", `learned-message record age in days (default ${defaultExpiryOptions.recordDays})`)
    .action(async (opts: { days?: string; maxCount?: string; recordDays?: string }, cmd: Command) => {
      const [{ openDirectDb }, { BayesStore }] = await Promise.all([import("../direct-db.ts"), import("@postline/antispam")]);
      const options = {
        tokenDays: count(opts.days, "--days", defaultExpiryOptions.tokenDays),
        maxCount: count(opts.maxCount, "--max-count", defaultExpiryOptions.maxCount),
        recordDays: count(opts.recordDays, "--record-days", defaultExpiryOptions.recordDays),
      };
      const db = await openDirectDb(cliConfig(), { migrate: true });
      try {
        const result = await new BayesStore(db).expire(options);
        emit(wantsJson(cmd), result, () => `expired ${result.tokens} tokens and ${result.records} learned-message records in ${result.models} model${result.models === 1 ? "" : "s"}`);
      } finally {
        await db.close();
      }
    });
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name} takes a whole number ≥ 0, not ${value}`);
  return n;
}
