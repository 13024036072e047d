import type { Command } from "commander";
import { withBackend } from "../open-backend.ts";
import { emit, table } from "../output.ts";
import { wantsJson } from "./common.ts";

export function registerAlias(program: Command): void {
  const alias = program.command("alias").description("manage aliases (one source may have several destinations)");

  alias
    .command("add <source> <destination>")
    .description("deliver mail for <source> (in a local domain) to <destination> (local or remote)")
    .action(async (source: string, destination: string, _opts, cmd: Command) => {
      const a = await withBackend((b) => b.addAlias(source, destination));
      emit(wantsJson(cmd), a, () => `added alias ${a.source} → ${a.destination}`);
    });

  alias
    .command("list")
    .description("list aliases")
    .option("--domain <domain>", "only aliases whose source is in this domain")
    .option("--source <address>", "only this source's destinations")
    .action(async (opts: { domain?: string; source?: string }, cmd: Command) => {
      const aliases = await withBackend((b) => b.listAliases({ domain: opts.domain, source: opts.source }));
      emit(wantsJson(cmd), aliases, () =>
        aliases.length === 0 ? "no aliases" : table(["SOURCE", "DESTINATION"], aliases.map((a) => [a.source, a.destination])),
      );
    });

  alias
    .command("remove <source> <destination>")
    .description("remove one source → destination pair")
    .action(async (source: string, destination: string, _opts, cmd: Command) => {
      await withBackend((b) => b.removeAlias(source, destination));
      emit(wantsJson(cmd), { removed: { source, destination } }, () => `removed alias ${source} → ${destination}`);
    });
}
