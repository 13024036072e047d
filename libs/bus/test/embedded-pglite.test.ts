import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate, type Db } from "@postline/db";
import { PgliteDb } from "@postline/db/pglite";
import { openBus, type Bus } from "../src/index.ts";
import { busContract } from "./bus-contract.ts";
import { EMBEDDED_TEST_OPTIONS, embeddedChildOptions } from "./test-options.ts";

let dataDir = "";
let db: Db | null = null;
const buses: Bus[] = [];

const closeAll = async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
};

busContract({
  name: "EmbeddedBus on PGlite",
  multiProcess: false,
  sessionTimeoutMs: EMBEDDED_TEST_OPTIONS.sessionTimeoutMs,
  async setup() {
    dataDir = mkdtempSync(join(tmpdir(), "postline-bus-pglite-"));
    db = await PgliteDb.open(dataDir);
    await migrate(db);
  },
  async teardown() {
    await closeAll();
    await db?.close();
    db = null;
    rmSync(dataDir, { recursive: true, force: true });
  },
  async open() {
    if (!db) throw new Error("the PGlite database is handed over to a child process");
    const bus = openBus({ kind: "embedded", db, ...EMBEDDED_TEST_OPTIONS });
    buses.push(bus);
    return bus;
  },
  closeAll,
  async handOver() {
    await closeAll();
    await db?.close();
    db = null;
  },
  async takeBack() {
    db = await PgliteDb.open(dataDir);
  },
  childConfig: () => ({ kind: "embedded", db: { kind: "pglite", dataDir }, ...embeddedChildOptions }),
});
