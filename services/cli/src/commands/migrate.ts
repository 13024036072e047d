import type { Command } from "commander";
import { cliConfig } from "../config.ts";
import { emit } from "../output.ts";
import { wantsJson } from "./common.ts";

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description("apply pending database migrations (PGlite under POSTLINE_DATA_DIR/db, or POSTLINE_DATABASE_URL in cluster mode)")
    .action(async (_opts, cmd: Command) => {
      const config = cliConfig();
      const [{ openDirectDb }, { migrate }] = await Promise.all([import("../direct-db.ts"), import("@postline/db")]);
      const db = await openDirectDb(config, { migrate: false });
      try {
        const applied = await migrate(db);
        emit(wantsJson(cmd), { applied }, () => (applied.length ? applied.map((v) => `applied ${v}`).join("\n") : "database schema is up to date"));
      } finally {
        await db.close();
      }
    });
}
