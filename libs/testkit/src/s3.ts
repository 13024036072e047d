import { Client } from "minio";
import { testInfra } from "./infra.ts";

/** A client of the test run's object storage, to look at or clear a bucket from outside a store. */
export function s3AdminClient(): Client {
  const { s3 } = testInfra();
  const url = new URL(s3.endpoint);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    useSSL: url.protocol === "https:",
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    region: s3.region,
    pathStyle: true,
  });
}

/** Deletes a bucket with everything in it (unfinished multipart uploads too); a missing bucket is fine. */
export async function dropBucket(client: Client, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) return;
  for (const u of (await client.listIncompleteUploadsQuery(bucket, "", "", "", "")).uploads) await client.abortMultipartUpload(bucket, u.key, u.uploadId);
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, "", true)) if (item.name) names.push(item.name);
  // removeObjects sends them in requests of at most 1,000 keys.
  if (names.length > 0) await client.removeObjects(bucket, names);
  await client.removeBucket(bucket);
}
