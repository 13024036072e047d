import type { Env, PlatformConfig } from "@postline/config";
import type { Db } from "@postline/db";
import type { Bus } from "@postline/bus";
import type { BlobStore } from "@postline/blobstore";
import type { Logger, ReadinessCheck } from "@postline/telemetry";
import type { Registry } from "prom-client";

/** What a service gets to run with: the same in its own process and inside standalone mode. */
export interface ServiceContext {
  config: PlatformConfig;
  /** The environment (with POSTLINE_CONFIG_FILE applied) for the service's own settings. */
  env: Env;
  logger: Logger;
  registry: Registry;
  db: Db;
  bus: Bus;
  blobs: BlobStore;
}

export interface RunningService {
  /** Where the service listens, e.g. `{ smtp: 25 }`, printed at start-up. */
  listening: Record<string, string>;
  /** Set by the admin API: recorded for the CLI in the standalone data directory's lock. */
  adminUrl?: string;
  /** Extra /readyz checks beyond the adapters'. */
  checks?: Record<string, ReadinessCheck>;
  /** Stop accepting work, finish what is in flight, release resources. */
  stop(): Promise<void>;
}

/** A service as a unit that both its own entry point and the standalone runner can start. */
export interface ServiceModule {
  name: string;
  start(ctx: ServiceContext): Promise<RunningService>;
}
