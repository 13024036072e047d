import type { Command } from "commander";
import { registerSpamClassify } from "./spam-classify.ts";
import { registerSpamExpire } from "./spam-expire.ts";
import { registerSpamLists } from "./spam-lists.ts";
import { registerSpamTrain } from "./spam-train.ts";

// `postline spam`: the spam filter's models and lists. Each group of subcommands lives in its own
// file (spam-*.ts), exports `register…(spam: Command)` and is called here.

export function registerSpam(program: Command): void {
  const spam = program.command("spam").description("the spam filter: train and inspect its models, classify a message, allow and block lists, verdicts");
  void spam;
  registerSpamClassify(spam);
  registerSpamExpire(spam);
  registerSpamLists(spam);
  registerSpamTrain(spam);
}
