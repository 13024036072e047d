import { join } from "node:path";
import type { Command } from "commander";
import { CliError } from "../errors.ts";

export function registerStart(program: Command): void {
  program
    .command("start")
    .description("run every service in one process: standalone mode by default (PGlite, embedded bus and blobs under POSTLINE_DATA_DIR)")
    .option("--only <names>", "comma-separated services to run, e.g. admin-api")
    .action(async (opts: { only?: string }) => {
      const [{ runServices }, { allServices }] = await Promise.all([import("@postline/platform"), import("../standalone/services.ts")]);
      const wanted = opts.only?.split(",").map((s) => s.trim());
      const unknown = wanted?.filter((n) => !allServices.some((s) => s.name === n));
      if (unknown?.length) throw new CliError(`unknown service ${unknown.join(", ")} (services: ${allServices.map((s) => s.name).join(", ")})`);
      const services = wanted ? allServices.filter((s) => wanted.includes(s.name)) : allServices;
      // Port 25 needs root; someone trying Postline out as a normal user gets the MX on 2525.
      if (!process.env.POSTLINE_MX_PORT && process.getuid?.() !== 0) process.env.POSTLINE_MX_PORT = "2525";
      await runServices({
        name: "standalone",
        services,
        onReady: ({ ops, services: listening }) => process.stderr.write(readyBanner(ops, listening)),
      });
    });
}

function readyBanner(ops: string, listening: Record<string, Record<string, string>>): string {
  const mode = process.env.POSTLINE_MODE ?? "standalone";
  const dataDir = process.env.POSTLINE_DATA_DIR ?? "./data";
  const lines = [`\nPostline is running (${mode} mode${mode === "standalone" ? `, data in ${dataDir}` : ""}):`];
  for (const [service, addresses] of Object.entries(listening)) {
    for (const [what, address] of Object.entries(addresses)) lines.push(`  ${service.padEnd(12)} ${what.padEnd(6)} ${address}`);
  }
  lines.push(`  ${"ops".padEnd(12)} ${"http".padEnd(6)} ${ops}  (/healthz /readyz /metrics)`);
  if (listening["admin-api"] && !process.env.POSTLINE_ADMIN_TOKEN) {
    lines.push(`  admin token in ${join(dataDir, "admin-token")}: export POSTLINE_ADMIN_URL=${listening["admin-api"].http} POSTLINE_ADMIN_TOKEN=$(cat ${join(dataDir, "admin-token")})`);
  }
  return `${lines.join("\n")}\nStop with Ctrl-C.\n\n`;
}
