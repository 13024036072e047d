import type { Command } from "commander";
import { withBackend } from "../open-backend.ts";
import { emit, table } from "../output.ts";
import { wantsJson } from "./common.ts";

export function registerDomain(program: Command): void {
  const domain = program.command("domain").description("manage local domains");

  domain
    .command("add <name>")
    .description("add a local domain (Unicode names are stored as A-labels)")
    .option("--catch-all <address>", "address that receives mail for unknown users of the domain")
    .action(async (name: string, opts: { catchAll?: string }, cmd: Command) => {
      const d = await withBackend((b) => b.addDomain(name, opts.catchAll ?? null));
      emit(wantsJson(cmd), d, () => `added domain ${d.name}${d.unicodeName !== d.name ? ` (${d.unicodeName})` : ""}`);
    });

  domain
    .command("list")
    .description("list local domains")
    .action(async (_opts, cmd: Command) => {
      const domains = await withBackend((b) => b.listDomains());
      emit(wantsJson(cmd), domains, () =>
        domains.length === 0
          ? "no domains"
          : table(
              ["DOMAIN", "CATCH-ALL", "CREATED"],
              domains.map((d) => [d.name + (d.unicodeName !== d.name ? ` (${d.unicodeName})` : ""), d.catchAll ?? "-", d.createdAt]),
            ),
      );
    });

  domain
    .command("catch-all <name> [address]")
    .description("set the domain's catch-all address; without an address, remove it")
    .action(async (name: string, address: string | undefined, _opts, cmd: Command) => {
      const d = await withBackend((b) => b.setCatchAll(name, address ?? null));
      emit(wantsJson(cmd), d, () => (d.catchAll ? `catch-all of ${d.name} is ${d.catchAll}` : `${d.name} has no catch-all`));
    });

  domain
    .command("remove <name>")
    .description("remove a domain; refused while it has accounts or aliases unless --force")
    .option("--force", "also delete its accounts (with all their mail) and aliases")
    .action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      await withBackend((b) => b.removeDomain(name, opts.force ?? false));
      emit(wantsJson(cmd), { removed: name }, () => `removed domain ${name}`);
    });
}
