import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { Client } from "minio";
import { BlobNotFoundError, type BlobRef, type BlobSource, type BlobStat, type BlobStore, type PutOptions } from "./blobstore.ts";
import { checkRange, isBlobKey } from "./keys.ts";
import { ContentMeter, chunksOf } from "./source.ts";

export interface S3BlobStoreConfig {
  /** e.g. http://127.0.0.1:9000 or https://s3.eu-west-1.amazonaws.com */
  endpoint: string;
  region?: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  /** Path-style URLs (`host/bucket/key`), which MinIO needs; default true. */
  pathStyle?: boolean;
  /** Bytes held in memory per put before they go out as one multipart part (≥ 5 MiB, S3's minimum; default 5 MiB). */
  partSize?: number;
  /** `tmp/` objects and multipart uploads older than this are left-overs of a crashed put (default 1 hour). */
  staleTempMs?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
const DEFAULT_STALE_TEMP_MS = 60 * 60 * 1000;
const BLOB_PREFIX = "blobs/";
const TEMP_PREFIX = "tmp/";

/**
 * Blobs as objects `blobs/<sha256>` in one bucket.
 *
 * The key is known only once the last byte has been hashed, so a put cannot stream straight to its
 * final name. Content that fits in one part (most mail) is buffered and written with a single PUT to
 * `blobs/<sha256>`; larger content streams part by part into a multipart upload of `tmp/<random>`
 * (at most two parts in memory), which is completed, copied server-side to `blobs/<sha256>` and
 * removed. Both a PUT and a CopyObject replace an object atomically, so no reader sees a partial blob;
 * a failed or oversized put aborts the multipart upload, which never becomes visible.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  readonly bucket: string;
  private readonly client: Client;
  private readonly region: string;
  private readonly partSize: number;
  private readonly staleTempMs: number;

  constructor(config: S3BlobStoreConfig) {
    const url = new URL(config.endpoint);
    const useSSL = url.protocol === "https:";
    this.partSize = Math.max(config.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.region = config.region ?? "us-east-1";
    this.bucket = config.bucket;
    this.staleTempMs = config.staleTempMs ?? DEFAULT_STALE_TEMP_MS;
    this.client = new Client({
      endPoint: url.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: url.port ? Number(url.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: config.accessKey,
      secretKey: config.secretKey,
      region: this.region,
      pathStyle: config.pathStyle ?? true,
      partSize: this.partSize,
    });
  }

  /** Creates the bucket if needed and clears what crashed puts left in `tmp/`. */
  static async open(config: S3BlobStoreConfig): Promise<S3BlobStore> {
    const store = new S3BlobStore(config);
    await store.ensureBucket();
    await store.removeStaleTemp();
    return store;
  }

  async ensureBucket(): Promise<void> {
    if (await this.client.bucketExists(this.bucket)) return;
    try {
      await this.client.makeBucket(this.bucket, this.region);
    } catch (err) {
      // Another process created it between our check and our request.
      if (!["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(errorCode(err) ?? "")) throw err;
    }
  }

  async put(source: BlobSource, options: PutOptions = {}): Promise<BlobRef> {
    const meter = new ContentMeter(options.maxBytes);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let upload: MultipartUpload | undefined;
    try {
      for await (const chunk of chunksOf(source)) {
        meter.add(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= this.partSize) {
          upload ??= await MultipartUpload.start(this.client, this.bucket, tempObjectName());
          // Waiting for the part in flight first keeps memory to two parts: that one, or this one twice while it is joined.
          await upload.idle();
          upload.addPart(Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        }
      }
      const key = meter.digest();
      const name = blobObjectName(key);
      if (upload === undefined) {
        // No existence check first: a PUT of the same bytes under their own hash changes nothing, and
        // asking first would cost a second request for every put of new content (nearly all of them).
        const body = Buffer.concat(pending, pendingBytes);
        await this.client.putObject(this.bucket, name, body, body.length);
      } else {
        if (pendingBytes > 0) {
          await upload.idle();
          upload.addPart(Buffer.concat(pending, pendingBytes));
        }
        pending = [];
        await upload.complete();
        if (!(await this.exists(name))) await this.client.copyObject(this.bucket, name, `${this.bucket}/${upload.objectName}`);
        await upload.discard();
      }
      return { key, sha256: key, size: meter.size };
    } catch (err) {
      await upload?.discard();
      throw err;
    }
  }

  async get(key: string): Promise<Readable> {
    if (!isBlobKey(key)) throw new BlobNotFoundError(key);
    try {
      return await this.client.getObject(this.bucket, blobObjectName(key));
    } catch (err) {
      throw mapNotFound(err, key);
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Readable> {
    checkRange(start, end);
    if (!isBlobKey(key)) throw new BlobNotFoundError(key);
    if (end < start) return this.emptyIfExists(key);
    try {
      return await this.client.getPartialObject(this.bucket, blobObjectName(key), start, end - start + 1);
    } catch (err) {
      // 416: the range starts at or past the end (an empty object included); clamping makes that empty.
      if (errorCode(err) === "InvalidRange") return this.emptyIfExists(key);
      throw mapNotFound(err, key);
    }
  }

  async stat(key: string): Promise<BlobStat | null> {
    if (!isBlobKey(key)) return null;
    try {
      const s = await this.client.statObject(this.bucket, blobObjectName(key));
      return { key, size: s.size };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    if (!isBlobKey(key)) return;
    // S3 DELETE of a missing key succeeds, so this is idempotent as it stands.
    await this.client.removeObject(this.bucket, blobObjectName(key));
  }

  async ping(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) throw new Error(`bucket ${this.bucket} does not exist`);
  }

  /**
   * Removes `tmp/` objects and aborts `tmp/` multipart uploads older than `olderThanMs` (default: the
   * store's staleTempMs): what a put killed mid-way leaves. Returns how many it removed.
   */
  async removeStaleTemp(olderThanMs = this.staleTempMs): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    const stale: string[] = [];
    for await (const item of this.client.listObjectsV2(this.bucket, TEMP_PREFIX, true)) {
      if (item.name && item.lastModified && item.lastModified.getTime() < cutoff) stale.push(item.name);
    }
    if (stale.length > 0) await this.client.removeObjects(this.bucket, stale);

    let aborted = 0;
    for await (const upload of this.incompleteUploads()) {
      if (upload.key.startsWith(TEMP_PREFIX) && upload.initiated.getTime() < cutoff) {
        await this.client.abortMultipartUpload(this.bucket, upload.key, upload.uploadId);
        aborted++;
      }
    }
    return stale.length + aborted;
  }

  /**
   * Every unfinished multipart upload in the bucket (only puts of big content start them). Listed
   * without a prefix because MinIO matches a ListMultipartUploads prefix against whole object names
   * only; paged by key alone since each temporary object name has a single upload.
   */
  private async *incompleteUploads(): AsyncGenerator<{ key: string; uploadId: string; initiated: Date }> {
    let keyMarker = "";
    for (let page = 0; page < 1000; page++) {
      const result = await this.client.listIncompleteUploadsQuery(this.bucket, "", keyMarker, "", "");
      yield* result.uploads;
      if (!result.isTruncated || !result.nextKeyMarker || result.nextKeyMarker === keyMarker) return;
      keyMarker = result.nextKeyMarker;
    }
  }

  private async exists(name: string): Promise<boolean> {
    try {
      await this.client.statObject(this.bucket, name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  private async emptyIfExists(key: string): Promise<Readable> {
    if ((await this.stat(key)) === null) throw new BlobNotFoundError(key);
    return Readable.from([]);
  }
}

/** One multipart upload of a temporary object: one part in flight while the caller fills the next. */
class MultipartUpload {
  private readonly parts: { part: number; etag: string }[] = [];
  private inFlight: Promise<void> = Promise.resolve();
  private completed = false;

  private constructor(
    private readonly client: Client,
    private readonly bucket: string,
    readonly objectName: string,
    private readonly uploadId: string,
  ) {}

  static async start(client: Client, bucket: string, objectName: string): Promise<MultipartUpload> {
    const uploadId = await client.initiateNewMultipartUpload(bucket, objectName, {});
    return new MultipartUpload(client, bucket, objectName, uploadId);
  }

  /** Resolves once no part is in flight; rejects if the last one failed. */
  idle(): Promise<void> {
    return this.inFlight;
  }

  /** Starts uploading the next part without waiting for it; call only when idle. */
  addPart(body: Buffer): void {
    const partNumber = this.parts.length + 1;
    this.parts.push({ part: partNumber, etag: "" });
    const upload = this.client
      .uploadPart({ bucketName: this.bucket, objectName: this.objectName, uploadID: this.uploadId, partNumber, headers: {} }, body)
      .then((r) => {
        this.parts[partNumber - 1] = { part: partNumber, etag: r.etag };
      });
    // Marked handled here; the rejection still surfaces at the next await of inFlight.
    upload.catch(() => undefined);
    this.inFlight = upload;
  }

  async complete(): Promise<void> {
    await this.inFlight;
    await this.client.completeMultipartUpload(this.bucket, this.objectName, this.uploadId, this.parts);
    this.completed = true;
  }

  /** Best effort: whatever is left here is also collected by removeStaleTemp. */
  async discard(): Promise<void> {
    await this.inFlight.catch(() => undefined);
    if (this.completed) await this.client.removeObject(this.bucket, this.objectName).catch(() => undefined);
    else await this.client.abortMultipartUpload(this.bucket, this.objectName, this.uploadId).catch(() => undefined);
  }
}

function blobObjectName(key: string): string {
  return BLOB_PREFIX + key;
}

function tempObjectName(): string {
  return `${TEMP_PREFIX}${Date.now()}-${randomBytes(8).toString("hex")}`;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isNotFound(err: unknown): boolean {
  const code = errorCode(err);
  return code === "NoSuchKey" || code === "NotFound";
}

function mapNotFound(err: unknown, key: string): unknown {
  return isNotFound(err) ? new BlobNotFoundError(key) : err;
}
