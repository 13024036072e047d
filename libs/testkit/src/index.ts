export { testInfra, testDatabaseUrl, testKafkaBrokers, testS3, uniqueName, type TestInfra } from "./infra.ts";
export { createTestDatabase, createPgliteDatabase, type TestDatabase } from "./databases.ts";
