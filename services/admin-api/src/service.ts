import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, field, parseConfig, z, type PlatformConfig } from "@postline/config";
import type { ServiceModule } from "@postline/platform";
import { buildAdminApi } from "./app.ts";

const adminSchema = z.object({
  POSTLINE_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  POSTLINE_ADMIN_HOST: z.string().default("127.0.0.1"),
  POSTLINE_ADMIN_PORT: field.port(8080),
});

/** The admin API as a service: its own pod in cluster mode, part of the process in standalone mode. */
export const adminApiService: ServiceModule = {
  name: "admin-api",
  async start(ctx) {
    const settings = parseConfig(adminSchema, ctx.env);
    const token = settings.POSTLINE_ADMIN_TOKEN ?? standaloneToken(ctx.config);
    const app = buildAdminApi({ db: ctx.db, bus: ctx.bus, token, logger: ctx.logger });
    const url = await app.listen({ host: settings.POSTLINE_ADMIN_HOST, port: settings.POSTLINE_ADMIN_PORT });
    ctx.logger.info({ url }, "admin API listening");
    return {
      listening: { http: url },
      adminUrl: url,
      stop: () => app.close(),
    };
  },
};

/**
 * Cluster mode requires POSTLINE_ADMIN_TOKEN (from a Secret). Standalone mode generates one on the
 * first start and keeps it in `<data>/admin-token`, readable only by its owner.
 */
function standaloneToken(config: PlatformConfig): string {
  if (config.POSTLINE_MODE === "cluster") throw new ConfigError("POSTLINE_ADMIN_TOKEN", "is required when POSTLINE_MODE=cluster");
  const file = join(config.POSTLINE_DATA_DIR, "admin-token");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(config.POSTLINE_DATA_DIR, { recursive: true });
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return token;
}
