import { Kafka, logLevel } from "kafkajs";
import { Client } from "minio";

/**
 * Deletes what a benchmark's cluster-mode installation (testkit's clusterEnv) left in the shared
 * Kafka and MinIO: the topics of its namespace and its bucket with every object in it. Without
 * this, each run of `pnpm bench:inbound` leaves about 7,000 objects and a dozen 12-partition topics
 * behind, and the next runs measure MinIO's scanner and Kafka's housekeeping working through them.
 */
export async function removeInstallation(env: Record<string, string>): Promise<void> {
  await Promise.all([removeTopics(env), removeBucket(env)]);
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

async function removeBucket(env: Record<string, string>): Promise<void> {
  const bucket = need(env, "POSTLINE_S3_BUCKET");
  const url = new URL(need(env, "POSTLINE_S3_ENDPOINT"));
  const client = new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: url.protocol === "https:",
    accessKey: need(env, "POSTLINE_S3_ACCESS_KEY"),
    secretKey: need(env, "POSTLINE_S3_SECRET_KEY"),
  });
  if (!(await client.bucketExists(bucket))) return;
  for (const u of (await client.listIncompleteUploadsQuery(bucket, "", "", "", "")).uploads) await client.abortMultipartUpload(bucket, u.key, u.uploadId);
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, "", true) as AsyncIterable<{ name?: string }>) if (item.name) names.push(item.name);
  // removeObjects sends them in requests of at most 1,000 keys.
  if (names.length > 0) await client.removeObjects(bucket, names);
  await client.removeBucket(bucket);
}

function need(env: Record<string, string>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not in the installation's environment`);
  return value;
}
