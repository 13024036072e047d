import type { Command } from "commander";
import type { AccountView } from "@postline/admin-api/client";
import { withBackend } from "../open-backend.ts";
import { emit, table } from "../output.ts";
import { choosePassword, type PasswordOptions } from "../passwords.ts";
import { formatSize, parseSize } from "../sizes.ts";
import { wantsJson } from "./common.ts";

function describe(a: AccountView): string {
  return table(
    ["ADDRESS", "QUOTA", "USED", "STATUS", "CREATED"],
    [[a.address, formatSize(a.quotaBytes), formatSize(a.usedBytes), a.disabled ? "disabled" : "active", a.createdAt]],
  );
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("manage mail accounts");

  user
    .command("add <address>")
    .description("create an account with INBOX, Drafts, Sent, Junk, Trash and Archive; without a password option a strong one is generated and printed once")
    .option("--password <password>", "the password (visible to other local users in the process list; prefer --password-stdin)")
    .option("--password-stdin", "read the password from stdin")
    .option("--quota <size>", "mailbox quota, e.g. 500M, 1G, unlimited (default unlimited)")
    .action(async (address: string, opts: PasswordOptions & { quota?: string }, cmd: Command) => {
      const quotaBytes = opts.quota !== undefined ? parseSize(opts.quota) : null;
      const { password, generated } = await choosePassword(opts, "generate");
      const account = await withBackend((b) => b.createAccount({ address, password, quotaBytes }));
      emit(wantsJson(cmd), generated ? { ...account, password } : account, () =>
        [`created ${account.address} (quota ${formatSize(account.quotaBytes)})`, ...(generated ? [`password: ${password}`, "(shown once: store it now)"] : [])].join("\n"),
      );
    });

  user
    .command("list")
    .description("list accounts")
    .option("--domain <domain>", "only this domain's accounts")
    .action(async (opts: { domain?: string }, cmd: Command) => {
      const accounts = await withBackend((b) => b.listAccounts(opts.domain));
      emit(wantsJson(cmd), accounts, () =>
        accounts.length === 0
          ? "no accounts"
          : table(
              ["ADDRESS", "QUOTA", "USED", "STATUS"],
              accounts.map((a) => [a.address, formatSize(a.quotaBytes), formatSize(a.usedBytes), a.disabled ? "disabled" : "active"]),
            ),
      );
    });

  user
    .command("show <address>")
    .description("show one account")
    .action(async (address: string, _opts, cmd: Command) => {
      const account = await withBackend((b) => b.getAccount(address));
      emit(wantsJson(cmd), account, () => describe(account));
    });

  user
    .command("passwd <address>")
    .description("set a new password (asks twice on a terminal unless an option gives it)")
    .option("--password <password>", "the new password")
    .option("--password-stdin", "read the new password from stdin")
    .option("--generate", "generate a strong password and print it once")
    .action(async (address: string, opts: PasswordOptions, cmd: Command) => {
      const { password, generated } = await choosePassword(opts, "prompt");
      const account = await withBackend((b) => b.updateAccount(address, { password }));
      emit(wantsJson(cmd), generated ? { ...account, password } : account, () =>
        [`password of ${account.address} changed`, ...(generated ? [`password: ${password}`, "(shown once: store it now)"] : [])].join("\n"),
      );
    });

  user
    .command("quota <address> <size>")
    .description("set the quota, e.g. 500M, 2G, unlimited")
    .action(async (address: string, size: string, _opts, cmd: Command) => {
      const quotaBytes = parseSize(size);
      const account = await withBackend((b) => b.updateAccount(address, { quotaBytes }));
      emit(wantsJson(cmd), account, () => `quota of ${account.address} is ${formatSize(account.quotaBytes)}`);
    });

  for (const [name, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    user
      .command(`${name} <address>`)
      .description(disabled ? "refuse logins and incoming mail for the account, keeping its mail" : "undo disable")
      .action(async (address: string, _opts, cmd: Command) => {
        const account = await withBackend((b) => b.updateAccount(address, { disabled }));
        emit(wantsJson(cmd), account, () => `${account.address} ${disabled ? "disabled" : "enabled"}`);
      });
  }

  user
    .command("remove <address>")
    .description("delete the account and all its mail")
    .action(async (address: string, _opts, cmd: Command) => {
      await withBackend((b) => b.deleteAccount(address));
      emit(wantsJson(cmd), { removed: address }, () => `removed ${address}`);
    });
}
