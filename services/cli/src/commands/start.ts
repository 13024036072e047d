import type { Command } from "commander";
import { CliError } from "../errors.ts";

// Placeholder so that `postline` runs; the lead replaces this file with the standalone runner.
export function registerStart(program: Command): void {
  program
    .command("start")
    .description("run every service in one process (standalone mode)")
    .action(() => {
      throw new CliError("the standalone runner is not built yet");
    });
}
