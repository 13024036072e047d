import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { testInfra, uniqueName } from "./infra.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The ops server URL and what each service listens on, from the process's `ready` log line. */
  ops: string;
  listening: Record<string, Record<string, string>>;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** SIGTERM (graceful) or SIGKILL (a crash); resolves with the exit code or signal. */
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * Environment for one cluster-mode installation on the test infrastructure: its own database (pass
 * its URL), its own topic namespace and its own bucket, so concurrent test files never meet.
 */
export function clusterEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const infra = testInfra();
  const id = uniqueName("t").toLowerCase().replace(/_/g, "-");
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/root",
    POSTLINE_MODE: "cluster",
    POSTLINE_DATABASE_URL: databaseUrl,
    POSTLINE_KAFKA_BROKERS: infra.kafkaBrokers.join(","),
    POSTLINE_BUS_NAMESPACE: `${id}.`,
    POSTLINE_BUS_PARTITIONS: "4",
    POSTLINE_S3_ENDPOINT: infra.s3.endpoint,
    POSTLINE_S3_ACCESS_KEY: infra.s3.accessKey,
    POSTLINE_S3_SECRET_KEY: infra.s3.secretKey,
    POSTLINE_S3_BUCKET: id,
    POSTLINE_OPS_PORT: "0",
    POSTLINE_LOG_LEVEL: "info",
    ...extra,
  };
}

// Every service process a test started; killed when the test process exits, so none outlives it.
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/**
 * How a service process runs: `sources` is `node --import tsx services/<name>/src/main.ts` (what
 * tests run by default); `dist` is the production form, the bundle `dist/bin/<name>.mjs` of
 * `pnpm build:dist` with the service's production node flags (productionNodeFlags). The default is
 * POSTLINE_SERVICE_RUNTIME, else `sources`.
 */
export type ServiceRuntime = "sources" | "dist";

/**
 * The V8 flags a service runs with in production: the NODE_OPTIONS the Helm chart sets in its
 * components.<name>.env (test/helm/chart.test.ts checks that they agree). The connection-facing
 * services trade some CPU for a small heap (inbound-mx with 4 MB semi-spaces, measured in
 * docs/inbound-mx.md "Memory"; submission still with 1 MB); the consumers keep V8's defaults,
 * which cost them less garbage-collection time.
 */
export function productionNodeFlags(name: string): string[] {
  if (name === "inbound-mx") return ["--max-semi-space-size=4", "--heap-growing-percent=20"];
  return name === "submission" ? ["--max-semi-space-size=1", "--heap-growing-percent=20"] : [];
}

function serviceCommand(name: string, runtime: ServiceRuntime): string[] {
  if (runtime === "sources") return ["--import", "tsx", `services/${name}/src/main.ts`];
  const bundle = `dist/bin/${name}.mjs`;
  if (!existsSync(join(REPO, bundle))) throw new Error(`${bundle} does not exist: run \`pnpm build:dist\` first`);
  return [...productionNodeFlags(name), bundle];
}

function defaultRuntime(): ServiceRuntime {
  const value = process.env.POSTLINE_SERVICE_RUNTIME ?? "sources";
  if (value !== "sources" && value !== "dist") throw new Error(`POSTLINE_SERVICE_RUNTIME must be sources or dist, not ${value}`);
  return value;
}

/** Starts service `name` as its own process (see ServiceRuntime) and waits until it logged `ready`. */
export async function startServiceProcess(
  name: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
  runtime: ServiceRuntime = defaultRuntime(),
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, serviceCommand(name, runtime), { cwd: REPO, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, "exit");
  const ready = new Promise<{ ops: string; services: Record<string, Record<string, string>> }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms: ${stderr.slice(-2000)}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === "ready") {
        clearTimeout(timer);
        resolve(entry as unknown as { ops: string; services: Record<string, Record<string, string>> });
      }
    });
    void exited.then(([code, signal]) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`));
    });
  });
  const info = await ready;
  return {
    name,
    child,
    ops: info.ops,
    listening: info.services,
    logs,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      child.kill(signal);
      // A process that does not finish a graceful stop in time is killed.
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const [code, sig] = await exited;
      clearTimeout(timer);
      return (code as number | null) ?? (sig as string | null);
    },
  };
}
