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
  /**
   * Stop accepting work at once, let what is in flight finish (sessions: up to `graceMs`, then
   * 421/BYE and close), release resources. Without options a service uses its own default.
   */
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /** POSTLINE_SHUTDOWN_GRACE_SECONDS in ms: how long open sessions may take to finish. */
  graceMs: number;
}

/** A service as a unit that both its own entry point and the standalone runner can start. */
export interface ServiceModule {
  name: string;
  start(ctx: ServiceContext): Promise<RunningService>;
}
