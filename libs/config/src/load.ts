import { readFileSync } from "node:fs";
import type { z } from "zod";

/** Raised when a setting is missing or malformed; `message` is one line naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

/**
 * Reads `KEY=value` lines (the .env format: `#` comments, optional quotes) from the file named by
 * POSTLINE_CONFIG_FILE. Variables set in the environment win over the file.
 */
export function readEnvFile(path: string): Env {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("POSTLINE_CONFIG_FILE", `cannot read ${path}: ${(err as Error).message}`);
  }
  const env: Env = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError("POSTLINE_CONFIG_FILE", `${path} line ${i + 1} is not KEY=value`);
    env[m[1]!] = m[2]!.replace(/^(['"])(.*)\1$/, "$2");
  }
  return env;
}

/** The environment with POSTLINE_CONFIG_FILE's contents underneath it. */
export function effectiveEnv(env: Env = process.env): Env {
  const file = env.POSTLINE_CONFIG_FILE;
  return file ? { ...readEnvFile(file), ...env } : env;
}

/**
 * Validates the environment against a schema whose keys are variable names. Empty strings count
 * as unset, so `FOO=` falls back to the default.
 */
export function parseConfig<S extends z.ZodObject>(schema: S, env: Env = effectiveEnv()): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") input[key] = v;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const variable = String(issue.path[0] ?? "config");
  const given = input[variable];
  const problem = given === undefined && issue.code === "invalid_type" ? "is required but not set" : issue.message;
  throw new ConfigError(variable, given === undefined ? problem : `${problem} (got "${given}")`);
}

/** parseConfig for a process entry point: a bad value stops the process with one line on stderr. */
export function loadConfig<S extends z.ZodObject>(schema: S, env?: Env): z.infer<S> {
  try {
    return parseConfig(schema, env ?? effectiveEnv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`postline: configuration error: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
