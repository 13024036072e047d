/**
 * Where the real infrastructure of the test run listens. `pnpm test` brings it up
 * (deploy/local/infra.sh) and exports these variables; a suite that needs it and does not find
 * them fails, it is never silently skipped.
 */
export interface TestInfra {
  databaseUrl: string;
  kafkaBrokers: string[];
  s3: { endpoint: string; accessKey: string; secretKey: string; region: string };
}

export function testInfra(): TestInfra {
  return { databaseUrl: testDatabaseUrl(), kafkaBrokers: testKafkaBrokers(), s3: testS3() };
}

export const testDatabaseUrl = () => need("POSTLINE_TEST_DATABASE_URL");
export const testKafkaBrokers = () => need("POSTLINE_TEST_KAFKA_BROKERS").split(",");
export const testS3 = (): TestInfra["s3"] => ({
  endpoint: need("POSTLINE_TEST_S3_ENDPOINT"),
  accessKey: need("POSTLINE_TEST_S3_ACCESS_KEY"),
  secretKey: need("POSTLINE_TEST_S3_SECRET_KEY"),
  region: process.env.POSTLINE_TEST_S3_REGION ?? "us-east-1",
});

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests with \`pnpm test\`, or \`pnpm infra:up\` and source deploy/local/.run/env`);
  return v;
}

/** A name no other test run or test file uses, for databases, topics, groups and buckets. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}
