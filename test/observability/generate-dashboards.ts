// Writes the Grafana dashboards (test/observability/dashboards.ts) to deploy/grafana/ and to the
// Helm chart's files/dashboards/. Run: node --import tsx test/observability/generate-dashboards.ts
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { dashboards, renderDashboard } from "./dashboards.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
for (const dir of ["deploy/grafana", "helm/postline/files/dashboards"]) {
  mkdirSync(join(REPO, dir), { recursive: true });
  for (const [file, model] of Object.entries(dashboards())) writeFileSync(join(REPO, dir, file), renderDashboard(model));
}
console.log(`wrote ${Object.keys(dashboards()).length} dashboards`);
