import { Command } from "commander";
import pkg from "../package.json" with { type: "json" };
import { registerAlias } from "./commands/alias.ts";
import { registerDkim } from "./commands/dkim.ts";
import { registerDomain } from "./commands/domain.ts";
import { registerMigrate } from "./commands/migrate.ts";
import { registerQueue } from "./commands/queue.ts";
import { registerSpam } from "./commands/spam.ts";
import { registerStart } from "./commands/start.ts";
import { registerUser } from "./commands/user.ts";

const program = new Command("postline")
  .description(
    "Postline mail platform.\n\n" +
      "Management commands use the admin API when POSTLINE_ADMIN_URL (and POSTLINE_ADMIN_TOKEN) are set, and the " +
      "database directly otherwise: PGlite under POSTLINE_DATA_DIR/db (standalone), or POSTLINE_DATABASE_URL with POSTLINE_MODE=cluster.",
  )
  .version(pkg.version)
  .option("--json", "machine-readable JSON output");

registerMigrate(program);
registerDomain(program);
registerUser(program);
registerAlias(program);
registerDkim(program);
registerQueue(program);
registerSpam(program);
registerStart(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // One line on stderr: the messages of our errors are written for the operator.
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`postline: ${message.split("\n")[0]}\n`);
  if (process.env.POSTLINE_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
}
