import type { PlatformConfig } from "@postline/config";
import { dbConfig, migrate, openDb, type Db } from "@postline/db";
import { allTopics, openBus, type Bus } from "@postline/bus";
import { blobStoreConfig, openBlobStore, type BlobStore } from "@postline/blobstore";
import type { Logger } from "@postline/telemetry";
import type { Registry } from "prom-client";

/** The three adapters that differ between cluster and standalone mode (DESIGN.md "Two modes"). */
export interface Adapters {
  db: Db;
  bus: Bus;
  blobs: BlobStore;
  close(): Promise<void>;
}

/**
 * Opens the database (migrating it when configured to), the bus (creating the topics) and the blob
 * store of the configured mode. Standalone: PGlite under <data>/db, the bus as a log in that same
 * database, blobs under <data>/blobs. Cluster: PostgreSQL, Kafka, S3. With a registry, each records
 * its metrics there (postline_db_*, postline_bus_*, postline_blob_*).
 */
export async function openAdapters(config: PlatformConfig, service: string, logger: Logger, registry?: Registry): Promise<Adapters> {
  const db = await openDb(dbConfig(config), `postline ${service}`, registry);
  try {
    if (config.POSTLINE_MIGRATE_ON_START) {
      const applied = await migrate(db);
      if (applied.length) logger.info({ applied }, "database migrated");
    }
    const bus =
      config.POSTLINE_MODE === "cluster"
        ? openBus({ kind: "kafka", brokers: config.POSTLINE_KAFKA_BROKERS!, clientId: `${config.POSTLINE_KAFKA_CLIENT_ID}-${service}`, namespace: config.POSTLINE_BUS_NAMESPACE, registry })
        : openBus({ kind: "embedded", db, namespace: config.POSTLINE_BUS_NAMESPACE, registry });
    await bus.createTopics(allTopics(config.POSTLINE_BUS_PARTITIONS));
    const blobs = await openBlobStore(blobStoreConfig(config), registry);
    return {
      db,
      bus,
      blobs,
      async close() {
        await bus.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
