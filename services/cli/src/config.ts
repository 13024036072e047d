import { ConfigError, field, parseConfig, platformSchema, z } from "@postline/config";
import { CliError } from "./errors.ts";

const shape = platformSchema.shape;

/**
 * The CLI reads only the settings it needs: the database (and mode) for direct access, or the
 * admin API's URL and token. It does not require Kafka and S3 settings in cluster mode, so an
 * operator can run it anywhere that reaches PostgreSQL or the admin API.
 */
export const cliSchema = z
  .object({
    POSTLINE_MODE: shape.POSTLINE_MODE,
    POSTLINE_DATA_DIR: shape.POSTLINE_DATA_DIR,
    POSTLINE_DATABASE_URL: shape.POSTLINE_DATABASE_URL,
    POSTLINE_DATABASE_POOL: shape.POSTLINE_DATABASE_POOL,
    POSTLINE_MIGRATE_ON_START: shape.POSTLINE_MIGRATE_ON_START,
    POSTLINE_ADMIN_URL: field.url().optional(),
    POSTLINE_ADMIN_TOKEN: z.string().optional(),
  })
  .superRefine((c, ctx) => {
    if (c.POSTLINE_ADMIN_URL && !c.POSTLINE_ADMIN_TOKEN) {
      ctx.addIssue({ code: "custom", path: ["POSTLINE_ADMIN_TOKEN"], message: "is required when POSTLINE_ADMIN_URL is set" });
    }
    if (!c.POSTLINE_ADMIN_URL && c.POSTLINE_MODE === "cluster" && !c.POSTLINE_DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["POSTLINE_DATABASE_URL"], message: "is required when POSTLINE_MODE=cluster (or set POSTLINE_ADMIN_URL to go through the admin API)" });
    }
  });

export type CliConfig = z.infer<typeof cliSchema>;

export function cliConfig(): CliConfig {
  try {
    return parseConfig(cliSchema);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(`configuration error: ${err.message}`);
    throw err;
  }
}
