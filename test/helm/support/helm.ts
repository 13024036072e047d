import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const chartDir = join(repoRoot, "helm/postline");
export const examplesDir = join(repoRoot, "deploy/k8s");

/** A rendered Kubernetes object, as Helm's own YAML parser read it. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

let cachedBin: string | undefined;

/** The helm binary, built by deploy/local/helm.sh on first use (minutes) and cached afterwards. */
export function helmBin(): string {
  cachedBin ??= execFileSync("bash", [join(repoRoot, "deploy/local/helm.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 30 * 60_000,
  }).trim();
  return cachedBin;
}

export interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): HelmResult {
  const r = spawnSync(helmBin(), args, {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    // No repositories, registries or kube config are consulted: a private, empty Helm home.
    env: { ...process.env, HELM_CONFIG_HOME: join(tmpdir(), "postline-helm-test/config"), HELM_CACHE_HOME: join(tmpdir(), "postline-helm-test/cache"), HELM_DATA_HOME: join(tmpdir(), "postline-helm-test/data"), KUBECONFIG: "/dev/null" },
  });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` arguments for values files and --set pairs. */
export function valueArgs(options: Omit<RenderOptions, "chart"> = {}): string[] {
  return [
    ...(options.values ?? []).flatMap((f) => ["-f", f]),
    ...(options.set ?? []).flatMap((s) => ["--set", s]),
    ...(options.setString ?? []).flatMap((s) => ["--set-string", s]),
  ];
}

/** Runs `helm template` on the chart; throws with helm's stderr when rendering fails. */
export function template(options: RenderOptions = {}): string {
  const r = helm(["template", "postline", options.chart ?? chartDir, "--namespace", "mail", ...valueArgs(options)]);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  return r.stdout;
}

const JSON_TEMPLATE = "zz-postline-test-json.yaml";

/**
 * Every object the chart renders (hooks included), parsed by Helm itself: the test copies the
 * chart, adds one template that includes every other template, splits the output into documents,
 * reads each with `fromYaml` and prints them all as JSON. So no YAML parser of our own is
 * involved, and `sameObjectsAs` checks the result against the real `helm template` output.
 */
export function renderObjects(options: RenderOptions = {}): K8sObject[] {
  return renderChart(options).objects;
}

/** The chart's NOTES.txt as `helm install` would print it (rendered through the same copy). */
export function renderNotes(options: RenderOptions = {}): string {
  return renderChart(options).notes;
}

export interface RenderOptions {
  values?: string[];
  set?: string[];
  setString?: string[];
  chart?: string;
}

function renderChart(options: RenderOptions): { objects: K8sObject[]; notes: string } {
  const source = options.chart ?? chartDir;
  const work = mkdtempSync(join(tmpdir(), "postline-chart-"));
  try {
    const chart = join(work, "chart");
    cpSync(source, chart, { recursive: true });
    const templates = readdirSync(join(chart, "templates")).filter((f) => /\.(ya?ml)$/.test(f) && !f.startsWith("_"));
    const list = templates.map((t) => JSON.stringify(t)).join(" ");
    const notes = existsSync(join(chart, "templates/NOTES.txt")) ? `include (print $.Template.BasePath "/NOTES.txt") $` : `""`;
    writeFileSync(
      join(chart, "templates", JSON_TEMPLATE),
      `{{- $docs := list }}
{{- range $t := list ${list} }}
{{- $out := include (print $.Template.BasePath "/" $t) $ }}
{{- range $doc := regexSplit "(?m)^---\\\\s*$" $out -1 }}
{{- $obj := fromYaml $doc }}
{{- if hasKey $obj "Error" }}{{ fail (printf "%s: %s" $t $obj.Error) }}{{ end }}
{{- if $obj }}{{ $docs = append $docs $obj }}{{ end }}
{{- end }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: postline-test-json
{{- range regexFindAll ".{1,200}" (toJson $docs | b64enc) -1 }}
# JSON {{ . }}
{{- end }}
{{- range regexFindAll ".{1,200}" (${notes} | b64enc) -1 }}
# NOTES {{ . }}
{{- end }}
`,
    );
    const out = template({ ...options, chart }).split("\n");
    const sourceLine = `# Source: ${readChartName(chart)}/templates/${JSON_TEMPLATE}`;
    const i = out.indexOf(sourceLine);
    if (i < 0) throw new Error("the JSON template's output is missing");
    // Base64 in comment lines of 200 characters: nothing in them can be taken for YAML syntax.
    const decode = (prefix: string) =>
      Buffer.from(out.slice(i + 1).filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)).join(""), "base64").toString("utf8");
    const objects = JSON.parse(decode("# JSON ")) as K8sObject[];
    sameObjectsAs(objects, template(options));
    return { objects, notes: decode("# NOTES ") };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function readChartName(chart: string): string {
  const text = execFileSync("grep", ["-m1", "^name:", join(chart, "Chart.yaml")], { encoding: "utf8" });
  return text.replace(/^name:\s*/, "").trim();
}

/** kind/name of every document of real `helm template` output. */
export function manifestIds(text: string): string[] {
  const ids: string[] = [];
  for (const doc of text.split(/^---\s*$/m)) {
    const kind = /^kind:\s*(\S+)\s*$/m.exec(doc)?.[1];
    const name = /^metadata:\s*$[\s\S]*?^ {2}name:\s*(\S+)\s*$/m.exec(doc)?.[1];
    if (kind && name) ids.push(`${kind}/${name.replace(/^"|"$/g, "")}`);
  }
  return ids.sort();
}

function sameObjectsAs(objects: K8sObject[], real: string): void {
  const ours = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  const theirs = manifestIds(real);
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    throw new Error(`parsed objects differ from helm template's documents:\n${ours.join(" ")}\nvs\n${theirs.join(" ")}`);
  }
}

/** The parsed documents of plain manifest files (no templating in them), read by Helm as above. */
export function readManifests(files: string[]): K8sObject[] {
  const work = mkdtempSync(join(tmpdir(), "postline-manifests-"));
  try {
    const chart = join(work, "manifests");
    mkdirSync(join(chart, "templates"), { recursive: true });
    cpSync(join(chartDir, "Chart.yaml"), join(chart, "Chart.yaml"));
    for (const f of files) cpSync(f, join(chart, "templates", f.split("/").pop()!));
    return renderObjects({ chart });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} among ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(", ")}`);
  return o;
}
