import type { Command } from "commander";

// `postline spam`: the spam filter's models and lists. Each group of subcommands lives in its own
// file (spam-*.ts) and is registered here.

export function registerSpam(program: Command): void {
  program.command("spam").description("the spam filter: train and inspect its models, classify a message, allow and block lists, verdicts");
}
