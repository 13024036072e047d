import { createTestDatabase, type TestDatabase } from "@postline/testkit";
import { openBus, type Bus } from "../src/index.ts";
import { busContract } from "./bus-contract.ts";
import { EMBEDDED_TEST_OPTIONS, embeddedChildOptions } from "./test-options.ts";

let database: TestDatabase | null = null;
const buses: Bus[] = [];

const closeAll = async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
};

busContract({
  name: "EmbeddedBus on PostgreSQL",
  multiProcess: true,
  sessionTimeoutMs: EMBEDDED_TEST_OPTIONS.sessionTimeoutMs,
  async setup() {
    database = await createTestDatabase();
  },
  async teardown() {
    await closeAll();
    await database?.drop();
  },
  async open() {
    const bus = openBus({ kind: "embedded", db: database!.db, ...EMBEDDED_TEST_OPTIONS });
    buses.push(bus);
    return bus;
  },
  closeAll,
  async handOver() {},
  async takeBack() {},
  childConfig: () => ({ kind: "embedded", db: { kind: "postgres", url: database!.url }, ...embeddedChildOptions }),
});
