import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseConfig, platformSchema, effectiveEnv, z, field } from "@postline/config";

test("defaults give a standalone platform", () => {
  const c = parseConfig(platformSchema, {});
  assert.equal(c.POSTLINE_MODE, "standalone");
  assert.equal(c.POSTLINE_DATA_DIR, "./data");
  assert.equal(c.POSTLINE_MIGRATE_ON_START, true);
});

test("values are coerced: ports to numbers, lists split, booleans parsed, empty means unset", () => {
  const c = parseConfig(platformSchema, { POSTLINE_OPS_PORT: "9100", POSTLINE_KAFKA_BROKERS: "a:1, b:2", POSTLINE_MIGRATE_ON_START: "no", POSTLINE_LOG_LEVEL: "" });
  assert.equal(c.POSTLINE_OPS_PORT, 9100);
  assert.deepEqual(c.POSTLINE_KAFKA_BROKERS, ["a:1", "b:2"]);
  assert.equal(c.POSTLINE_MIGRATE_ON_START, false);
  assert.equal(c.POSTLINE_LOG_LEVEL, "info");
});

test("a bad value names the variable, the problem and what was given", () => {
  assert.throws(
    () => parseConfig(platformSchema, { POSTLINE_OPS_PORT: "http" }),
    (e: unknown) => e instanceof ConfigError && e.variable === "POSTLINE_OPS_PORT" && /must be a port number \(got "http"\)/.test(e.message),
  );
  assert.throws(() => parseConfig(platformSchema, { POSTLINE_OPS_PORT: "70000" }), /POSTLINE_OPS_PORT: must be at most 65535/);
  assert.throws(() => parseConfig(platformSchema, { POSTLINE_MODE: "both" }), /POSTLINE_MODE: must be standalone or cluster/);
});

test("cluster mode requires every infrastructure address", () => {
  assert.throws(() => parseConfig(platformSchema, { POSTLINE_MODE: "cluster" }), /POSTLINE_DATABASE_URL: is required when POSTLINE_MODE=cluster/);
  const ok = parseConfig(platformSchema, {
    POSTLINE_MODE: "cluster",
    POSTLINE_DATABASE_URL: "postgres://u:p@h/db",
    POSTLINE_KAFKA_BROKERS: "k:9092",
    POSTLINE_S3_ENDPOINT: "http://s3:9000",
    POSTLINE_S3_ACCESS_KEY: "a",
    POSTLINE_S3_SECRET_KEY: "s",
  });
  assert.deepEqual(ok.POSTLINE_KAFKA_BROKERS, ["k:9092"]);
});

test("a required variable that is missing says so", () => {
  const schema = z.object({ POSTLINE_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"), POSTLINE_ADMIN_PORT: field.port(8080) });
  assert.throws(() => parseConfig(schema, {}), /POSTLINE_ADMIN_TOKEN: is required but not set/);
  assert.throws(() => parseConfig(schema, { POSTLINE_ADMIN_TOKEN: "short" }), /POSTLINE_ADMIN_TOKEN: must be at least 16 characters/);
});

test("POSTLINE_CONFIG_FILE supplies values; the environment overrides them", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const file = join(dir, "postline.env");
  writeFileSync(file, "# comment\nPOSTLINE_OPS_PORT=9200\nPOSTLINE_DATA_DIR='/var/lib/postline'\n");
  const env = effectiveEnv({ POSTLINE_CONFIG_FILE: file, POSTLINE_OPS_PORT: "9300" });
  const c = parseConfig(platformSchema, env);
  assert.equal(c.POSTLINE_OPS_PORT, 9300);
  assert.equal(c.POSTLINE_DATA_DIR, "/var/lib/postline");
  writeFileSync(file, "not a setting\n");
  assert.throws(() => effectiveEnv({ POSTLINE_CONFIG_FILE: file }), /POSTLINE_CONFIG_FILE: .* line 1 is not KEY=value/);
});

test("loadConfig stops the process with one line naming the variable", () => {
  const script = `import { loadConfig, platformSchema } from "@postline/config"; loadConfig(platformSchema); console.log("unreachable");`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    cwd: import.meta.dirname,
    env: { ...process.env, POSTLINE_MODE: "cluster", POSTLINE_DATABASE_URL: "mysql://x" },
  });
  assert.equal(r.status, 78);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, 'postline: configuration error: POSTLINE_DATABASE_URL: must be a postgres:// URL (got "mysql://x")\n');
});
