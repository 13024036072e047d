export { ConfigError, parseConfig, loadConfig, effectiveEnv, readEnvFile, type Env } from "./load.ts";
export * as field from "./fields.ts";
export { platformSchema, type PlatformConfig } from "./platform.ts";
export { z } from "zod";
