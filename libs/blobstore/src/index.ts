export {
  BlobNotFoundError,
  BlobTooLargeError,
  type BlobRef,
  type BlobSource,
  type BlobStat,
  type BlobStore,
  type PutOptions,
} from "./blobstore.ts";
export { FsBlobStore, type FsBlobStoreOptions } from "./fs-blobstore.ts";
export { S3BlobStore, type S3BlobStoreConfig } from "./s3-blobstore.ts";
export { openBlobStore, blobStoreConfig, type BlobStoreConfig } from "./open.ts";
export { isBlobKey } from "./keys.ts";
export { withMetrics as withBlobMetrics, blobMetrics, type BlobMetrics, type BlobOp } from "./metrics.ts";
