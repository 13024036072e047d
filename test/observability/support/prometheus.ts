import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@postline/testkit";

/** A private Prometheus (Debian's, from deploy/local/prometheus.sh) on a loopback port. */
export interface Prometheus {
  url: string;
  /** GET /api/v1/query (instant, now). */
  query(expr: string): Promise<QueryResponse>;
  /** The alerting rules as loaded and last evaluated (GET /api/v1/rules). */
  rules(): Promise<Array<{ name: string; rules: Array<{ name: string; health: string; state: string; lastError?: string }> }>>;
  logs(): string;
  stop(): Promise<void>;
}

export interface QueryResponse {
  status: string;
  error?: string;
  data: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

// Every Prometheus started here is killed when the test process exits.
const children = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** Scrapes `targets` (job name → host:port) every second; loads `ruleFiles`, evaluated every second. */
export async function startPrometheus(options: { targets: Record<string, string>; ruleFiles?: string[] }): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "postline-prometheus-"));
  const port = await freePort();
  const config = {
    global: { scrape_interval: "1s", scrape_timeout: "900ms", evaluation_interval: "1s" },
    rule_files: options.ruleFiles ?? [],
    scrape_configs: Object.entries(options.targets).map(([job, target]) => ({ job_name: job, metrics_path: "/metrics", static_configs: [{ targets: [target] }] })),
  };
  // JSON is YAML.
  writeFileSync(join(dir, "prometheus.yml"), JSON.stringify(config, null, 2));
  const child = spawn(
    "prometheus",
    [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`, "--log.level=warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = once(child, "exit");
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${output}`);
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s: ${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr) {
      const r = await fetch(`${url}/api/v1/query`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ query: expr }) });
      return (await r.json()) as QueryResponse;
    },
    async rules() {
      const r = await fetch(`${url}/api/v1/rules?type=alert`);
      const body = (await r.json()) as { data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; state: string; lastError?: string }> }> } };
      return body.data.groups;
    },
    logs: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
