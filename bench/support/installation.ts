import { Kafka, logLevel } from "kafkajs";
import { dropBucket, s3AdminClient } from "@postline/testkit";

/**
 * Deletes what a benchmark's cluster-mode installation (testkit's clusterEnv) left in the shared
 * Kafka and MinIO: the topics of its namespace and its bucket with every object in it. Without
 * this, each run of `pnpm bench:inbound` leaves about 7,000 objects and a dozen 12-partition topics
 * behind, and the next runs measure MinIO's scanner and Kafka's housekeeping working through them.
 */
export async function removeInstallation(env: Record<string, string>): Promise<void> {
  await Promise.all([removeTopics(env), dropBucket(s3AdminClient(), need(env, "POSTLINE_S3_BUCKET"))]);
}

async function removeTopics(env: Record<string, string>): Promise<void> {
  const namespace = need(env, "POSTLINE_BUS_NAMESPACE");
  const admin = new Kafka({ clientId: "bench-cleanup", brokers: need(env, "POSTLINE_KAFKA_BROKERS").split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(namespace));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

function need(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not in the installation's environment`);
  return value;
}
