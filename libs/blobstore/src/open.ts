import { join } from "node:path";
import type { Registry } from "prom-client";
import type { PlatformConfig } from "@postline/config";
import type { BlobStore } from "./blobstore.ts";
import { FsBlobStore } from "./fs-blobstore.ts";
import { S3BlobStore } from "./s3-blobstore.ts";
import { withMetrics } from "./metrics.ts";

export type BlobStoreConfig =
  | { kind: "s3"; endpoint: string; region?: string; bucket: string; accessKey: string; secretKey: string; pathStyle?: boolean; staleTempMs?: number }
  | { kind: "fs"; dir: string; staleTempMs?: number };

/**
 * Opens the configured store: creates its bucket or directories and clears temp left-overs of crashed
 * puts. With a registry, the store records its metrics there (metrics.ts).
 */
export async function openBlobStore(config: BlobStoreConfig, registry?: Registry): Promise<BlobStore> {
  const store = config.kind === "s3" ? await S3BlobStore.open(config) : await FsBlobStore.open(config.dir, { staleTempMs: config.staleTempMs });
  return registry ? withMetrics(store, registry) : store;
}

/** The blob store a service uses: S3 in cluster mode, `<POSTLINE_DATA_DIR>/blobs` in standalone mode. */
export function blobStoreConfig(platform: PlatformConfig): BlobStoreConfig {
  if (platform.POSTLINE_MODE === "cluster") {
    const { POSTLINE_S3_ENDPOINT: endpoint, POSTLINE_S3_ACCESS_KEY: accessKey, POSTLINE_S3_SECRET_KEY: secretKey } = platform;
    if (!endpoint || !accessKey || !secretKey) throw new Error("cluster mode needs POSTLINE_S3_ENDPOINT, POSTLINE_S3_ACCESS_KEY and POSTLINE_S3_SECRET_KEY");
    return { kind: "s3", endpoint, region: platform.POSTLINE_S3_REGION, bucket: platform.POSTLINE_S3_BUCKET, accessKey, secretKey };
  }
  return { kind: "fs", dir: join(platform.POSTLINE_DATA_DIR, "blobs") };
}
