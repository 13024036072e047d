import type { DirectoryBackend } from "./backend.ts";
import { cliConfig } from "./config.ts";

/**
 * The admin API when POSTLINE_ADMIN_URL is set, otherwise the database itself. Each is loaded only
 * when used, so that a command over HTTP does not load the database drivers.
 */
export async function openBackend(): Promise<DirectoryBackend> {
  const config = cliConfig();
  if (config.POSTLINE_ADMIN_URL) {
    const { apiBackend } = await import("./api-backend.ts");
    return apiBackend(config.POSTLINE_ADMIN_URL, config.POSTLINE_ADMIN_TOKEN ?? "");
  }
  const [{ directBackend }, { openDirectDb }] = await Promise.all([import("./direct-backend.ts"), import("./direct-db.ts")]);
  return directBackend(await openDirectDb(config, { migrate: config.POSTLINE_MIGRATE_ON_START }));
}

/** Runs `fn` with a backend and always closes it (releasing the data directory lock). */
export async function withBackend<T>(fn: (backend: DirectoryBackend) => Promise<T>): Promise<T> {
  const backend = await openBackend();
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}
