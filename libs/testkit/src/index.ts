export { testInfra, uniqueName, type TestInfra } from "./infra.ts";
export { createTestDatabase, createPgliteDatabase, type TestDatabase } from "./databases.ts";
