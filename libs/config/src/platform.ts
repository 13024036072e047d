import { z } from "zod";
import { bool, list, logLevel, port, positiveInt } from "./fields.ts";

/**
 * Settings every service shares: which adapters to use and where the infrastructure is.
 * POSTLINE_MODE=standalone uses the embedded adapters under POSTLINE_DATA_DIR;
 * POSTLINE_MODE=cluster needs PostgreSQL, Kafka and S3 addresses.
 */
export const platformSchema = z
  .object({
    POSTLINE_MODE: z.enum(["standalone", "cluster"], { message: "must be standalone or cluster" }).default("standalone"),
    POSTLINE_DATA_DIR: z.string().default("./data"),
    POSTLINE_DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL").optional(),
    POSTLINE_DATABASE_POOL: positiveInt(10),
    POSTLINE_KAFKA_BROKERS: list().optional(),
    POSTLINE_KAFKA_CLIENT_ID: z.string().default("postline"),
    POSTLINE_BUS_PARTITIONS: positiveInt(12),
    POSTLINE_BUS_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]*$/, "may contain only letters, digits, '.', '_' and '-'").default(""),
    POSTLINE_S3_ENDPOINT: z.string().url("must be a URL such as http://127.0.0.1:9000").optional(),
    POSTLINE_S3_REGION: z.string().default("us-east-1"),
    POSTLINE_S3_BUCKET: z.string().default("postline"),
    POSTLINE_S3_ACCESS_KEY: z.string().optional(),
    POSTLINE_S3_SECRET_KEY: z.string().optional(),
    POSTLINE_LOG_LEVEL: logLevel(),
    POSTLINE_OPS_HOST: z.string().default("127.0.0.1"),
    POSTLINE_OPS_PORT: port(0),
    POSTLINE_MIGRATE_ON_START: bool(true),
    OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.POSTLINE_MODE !== "cluster") return;
    for (const key of ["POSTLINE_DATABASE_URL", "POSTLINE_KAFKA_BROKERS", "POSTLINE_S3_ENDPOINT", "POSTLINE_S3_ACCESS_KEY", "POSTLINE_S3_SECRET_KEY"] as const) {
      if (c[key] === undefined) ctx.addIssue({ code: "custom", path: [key], message: "is required when POSTLINE_MODE=cluster" });
    }
  });

export type PlatformConfig = z.infer<typeof platformSchema>;
