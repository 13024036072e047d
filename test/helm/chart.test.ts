import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { productionNodeFlags } from "@postline/testkit";
import { chartDir, examplesDir, find, helm, helmBin, readManifests, renderNotes, renderObjects, template, valueArgs, type K8sObject } from "./support/helm.ts";
import { validateObject } from "./support/validate.ts";

// The first run on a machine builds Helm from source (deploy/local/helm.sh, several minutes).
before(() => void helmBin(), { timeout: 30 * 60_000 });

const exampleValues = readdirSync(examplesDir)
  .filter((f) => /^values-.*\.ya?ml$/.test(f))
  .map((f) => join(examplesDir, f));
const services = ["inbound-mx", "submission", "spam-filter", "delivery", "imap-pop3", "admin-api"];

/** Value sets checked everywhere: the defaults, each example file, and every optional part switched on. */
const valueSets: { name: string; values?: string[]; set?: string[] }[] = [
  { name: "default values" },
  ...exampleValues.map((f) => ({ name: f.slice(examplesDir.length + 1), values: [f] })),
  {
    name: "everything enabled",
    set: [
      "tls.enabled=true",
      "tls.certManager.enabled=true",
      "keda.enabled=true",
      "proxyProtocol.enabled=true",
      "metrics.serviceMonitor.enabled=true",
      "metrics.prometheusRule.enabled=true",
      "existingSecret=my-secrets",
      ...Object.keys(componentsKeys()).map((k) => `components.${k}.autoscaling.enabled=true`),
    ],
  },
];

function componentsKeys(): Record<string, string> {
  return { inboundMx: "inbound-mx", submission: "submission", spamFilter: "spam-filter", delivery: "delivery", imapPop3: "imap-pop3", adminApi: "admin-api" };
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string } }[];
  securityContext?: Record<string, unknown>;
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
}
interface PodSpec {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
  topologySpreadConstraints?: unknown[];
}

function podSpec(o: K8sObject): PodSpec {
  const spec = o.spec as { template?: { spec: PodSpec } };
  assert.ok(spec.template, `${o.kind}/${o.metadata.name} has no pod template`);
  return spec.template.spec;
}

function envOf(c: Container): Map<string, NonNullable<Container["env"]>[number]> {
  return new Map((c.env ?? []).map((e) => [e.name, e]));
}

describe("helm chart helm/postline", () => {
  it("passes helm lint --strict with the default values and each example values file", () => {
    assert.ok(exampleValues.length >= 2, "deploy/k8s has example values files");
    for (const files of [[], ...exampleValues.map((f) => [f])]) {
      const r = helm(["lint", "--strict", chartDir, ...valueArgs({ values: files })]);
      assert.equal(r.status, 0, `helm lint --strict ${files.join(" ")}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  for (const vs of valueSets) {
    it(`renders valid Kubernetes objects with ${vs.name}`, async () => {
      const objects = renderObjects(vs);
      assert.ok(objects.length >= 20, `only ${objects.length} objects`);
      const errors: string[] = [];
      for (const o of objects) errors.push(...(await validateObject(o)));
      assert.deepEqual(errors, []);
      for (const s of services) find(objects, "Deployment", `postline-${s}`);
    });
  }

  it("rejects values that break values.schema.json", () => {
    for (const bad of ["logLevel=loud", "mailService.externalTrafficPolicy=Sometimes", "components.delivery.autoscaling.maxReplicas=zero", "admin.token=short", "database.url=mysql://x"]) {
      const r = helm(["template", "postline", chartDir, "--set", bad]);
      assert.notEqual(r.status, 0, `--set ${bad} was accepted`);
      assert.match(r.stderr, /schema/i, `--set ${bad}: ${r.stderr}`);
    }
    const unknown = helm(["template", "postline", chartDir, "--set", "replicas=3"]);
    assert.notEqual(unknown.status, 0, "an unknown top-level key was accepted");
  });

  it("runs one image per service with image.command and the service's bundle, probes on the ops port", () => {
    const objects = renderObjects({ set: ["image.command={node,--enable-source-maps}", "opsPort=9464"] });
    for (const s of services) {
      const [c] = podSpec(find(objects, "Deployment", `postline-${s}`)).containers;
      assert.deepEqual(c!.command, ["node", "--enable-source-maps"]);
      assert.deepEqual(c!.args, [`dist/bin/${s}.mjs`]);
      // The V8 flags the benchmarks and the bundle tests run the service with (libs/testkit).
      const nodeOptions = c!.env?.find((e) => e.name === "NODE_OPTIONS")?.value;
      assert.equal(nodeOptions ?? "", productionNodeFlags(s).join(" "), `${s} NODE_OPTIONS`);
      assert.equal(c!.livenessProbe?.httpGet?.path, "/healthz");
      assert.equal(c!.readinessProbe?.httpGet?.path, "/readyz");
      assert.equal(c!.readinessProbe?.httpGet?.port, "metrics");
      assert.equal(c!.ports?.find((p) => p.name === "metrics")?.containerPort, 9464);
      const metrics = find(objects, "Service", `postline-${s}-metrics`).spec as { type: string; ports: { name: string; port: number }[] };
      assert.equal(metrics.type, "ClusterIP");
      assert.deepEqual(metrics.ports.map((p) => [p.name, p.port]), [["metrics", 9464]]);
    }
    const env = find(objects, "ConfigMap", "postline-env").data as Record<string, string>;
    assert.equal(env.POSTLINE_OPS_PORT, "9464");
    assert.equal(env.POSTLINE_OPS_HOST, "0.0.0.0");
    assert.equal(env.POSTLINE_MODE, "cluster");
  });

  it("proxyProtocol.enabled sets the load balancer annotation on inbound-mx's Service and POSTLINE_MX_PROXY_PROTOCOL in its container", () => {
    const annotation = "service.beta.kubernetes.io/aws-load-balancer-proxy-protocol";
    const off = renderObjects();
    const on = renderObjects({ set: ["proxyProtocol.enabled=true"] });
    const mxService = (objects: K8sObject[]) => find(objects, "Service", "postline-inbound-mx");
    const mxEnv = (objects: K8sObject[]) => envOf(podSpec(find(objects, "Deployment", "postline-inbound-mx")).containers[0]!);

    assert.equal(mxService(off).metadata.annotations?.[annotation], undefined);
    assert.equal(mxEnv(off).get("POSTLINE_MX_PROXY_PROTOCOL")?.value, "false");
    assert.equal(mxService(on).metadata.annotations?.[annotation], "*");
    assert.equal(mxEnv(on).get("POSTLINE_MX_PROXY_PROTOCOL")?.value, "true");
    // Submission and IMAP/POP3 do not speak PROXY protocol: their Services never get the annotation.
    for (const s of ["submission", "imap-pop3"]) assert.equal(find(on, "Service", `postline-${s}`).metadata.annotations?.[annotation], undefined);

    const custom = renderObjects({ set: ["proxyProtocol.enabled=true"], setString: ["proxyProtocol.serviceAnnotations.service\\.beta\\.kubernetes\\.io/do-loadbalancer-enable-proxy-protocol=true"] });
    assert.equal(mxService(custom).metadata.annotations?.["service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol"], "true");
  });

  it("exposes the mail ports through LoadBalancer Services with externalTrafficPolicy Local", () => {
    const objects = renderObjects();
    const expected: Record<string, [string, number][]> = {
      "inbound-mx": [["smtp", 25]],
      submission: [["submission", 587], ["submissions", 465]],
      "imap-pop3": [["imap", 143], ["imaps", 993], ["pop3", 110], ["pop3s", 995]],
    };
    for (const [s, ports] of Object.entries(expected)) {
      const spec = find(objects, "Service", `postline-${s}`).spec as { type: string; externalTrafficPolicy: string; ports: { name: string; port: number; targetPort: string }[] };
      assert.equal(spec.type, "LoadBalancer");
      assert.equal(spec.externalTrafficPolicy, "Local");
      assert.deepEqual(spec.ports.map((p) => [p.name, p.port]).sort(), [...ports].sort());
      // Each Service port targets a named container port, and that container sets the matching env.
      const c = podSpec(find(objects, "Deployment", `postline-${s}`)).containers[0]!;
      for (const p of spec.ports) assert.ok(c.ports?.some((cp) => cp.name === p.targetPort && cp.containerPort >= 1024), `${s}: no unprivileged container port ${p.targetPort}`);
    }
    const mx = envOf(podSpec(find(objects, "Deployment", "postline-inbound-mx")).containers[0]!);
    assert.equal(mx.get("POSTLINE_MX_PORT")?.value, "2525");
    const imap = envOf(podSpec(find(objects, "Deployment", "postline-imap-pop3")).containers[0]!);
    assert.deepEqual(["POSTLINE_IMAP_PORT", "POSTLINE_IMAPS_PORT", "POSTLINE_POP3_PORT", "POSTLINE_POP3S_PORT"].map((k) => imap.get(k)?.value), ["1143", "1993", "1110", "1995"]);
    assert.equal((find(objects, "Service", "postline-admin-api").spec as { type: string }).type, "ClusterIP");
  });

  it("has an HPA for delivery with the values' min and max, replaced by a KEDA ScaledObject on the namespaced consumer group", () => {
    const objects = renderObjects({ set: ["components.delivery.autoscaling.minReplicas=3", "components.delivery.autoscaling.maxReplicas=9"] });
    const hpa = find(objects, "HorizontalPodAutoscaler", "postline-delivery").spec as { minReplicas: number; maxReplicas: number; scaleTargetRef: { kind: string; name: string } };
    assert.equal(hpa.minReplicas, 3);
    assert.equal(hpa.maxReplicas, 9);
    assert.deepEqual(hpa.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "postline-delivery" });
    // An autoscaled Deployment leaves replicas to the autoscaler; the others keep theirs.
    assert.equal((find(objects, "Deployment", "postline-delivery").spec as { replicas?: number }).replicas, undefined);
    assert.equal((find(objects, "Deployment", "postline-inbound-mx").spec as { replicas?: number }).replicas, 2);
    assert.equal(objects.filter((o) => o.kind === "HorizontalPodAutoscaler").length, 1);

    const keda = renderObjects({ set: ["keda.enabled=true", "bus.namespace=prod.", "keda.lagThreshold=250"] });
    assert.equal(keda.filter((o) => o.kind === "HorizontalPodAutoscaler").length, 0, "KEDA makes its own HPA: the chart's must go");
    const so = find(keda, "ScaledObject", "postline-delivery").spec as { triggers: { type: string; metadata: Record<string, string> }[] };
    assert.equal(so.triggers[0]!.type, "kafka");
    assert.equal(so.triggers[0]!.metadata.topic, "prod.mail.classified");
    assert.equal(so.triggers[0]!.metadata.consumerGroup, "prod.delivery");
    assert.equal(so.triggers[0]!.metadata.lagThreshold, "250");
    assert.equal((find(keda, "ConfigMap", "postline-env").data as Record<string, string>).POSTLINE_BUS_NAMESPACE, "prod.");
  });

  it("migrates the database in a pre-install/pre-upgrade hook Job running `postline migrate`", () => {
    const objects = renderObjects({ set: ["database.url=postgres://u:p@db:5432/postline"] });
    const job = find(objects, "Job", "postline-migrate");
    assert.equal(job.metadata.annotations?.["helm.sh/hook"], "pre-install,pre-upgrade");
    assert.match(job.metadata.annotations?.["helm.sh/hook-delete-policy"] ?? "", /before-hook-creation/);
    const c = podSpec(job).containers[0]!;
    assert.deepEqual(c.args, ["dist/bin/cli.mjs", "migrate"]);
    // The hook runs before the release's Secret exists on install: it reads a hook Secret made before it.
    const ref = envOf(c).get("POSTLINE_DATABASE_URL")?.valueFrom?.secretKeyRef;
    assert.deepEqual(ref, { name: "postline-migrate", key: "POSTLINE_DATABASE_URL" });
    const hookSecret = find(objects, "Secret", "postline-migrate");
    assert.equal(hookSecret.metadata.annotations?.["helm.sh/hook"], "pre-install,pre-upgrade");
    assert.ok(Number(hookSecret.metadata.annotations?.["helm.sh/hook-weight"]) < Number(job.metadata.annotations?.["helm.sh/hook-weight"]));
    assert.equal((hookSecret.stringData as Record<string, string>).POSTLINE_DATABASE_URL, "postgres://u:p@db:5432/postline");
    assert.equal((find(objects, "ConfigMap", "postline-env").data as Record<string, string>).POSTLINE_MIGRATE_ON_START, "false");

    const cnpg = renderObjects({ set: ["database.existingSecret.name=pg-app"] });
    assert.deepEqual(envOf(podSpec(find(cnpg, "Job", "postline-migrate")).containers[0]!).get("POSTLINE_DATABASE_URL")?.valueFrom?.secretKeyRef, { name: "pg-app", key: "uri" });
    assert.ok(!cnpg.some((o) => o.kind === "Secret" && o.metadata.name === "postline-migrate"));

    const none = renderObjects({ set: ["migration.enabled=false"] });
    assert.ok(!none.some((o) => o.kind === "Job"));
    assert.equal((find(none, "ConfigMap", "postline-env").data as Record<string, string>).POSTLINE_MIGRATE_ON_START, "true");
  });

  it("runs every container non-root with a read-only root filesystem, no capabilities, RuntimeDefault seccomp and an emptyDir /tmp", () => {
    const objects = renderObjects({ set: ["tls.enabled=true"] });
    const workloads = objects.filter((o) => o.kind === "Deployment" || o.kind === "Job");
    assert.equal(workloads.length, services.length + 1);
    for (const w of workloads) {
      const pod = podSpec(w);
      assert.equal(pod.securityContext?.runAsNonRoot, true, w.metadata.name);
      assert.deepEqual(pod.securityContext?.seccompProfile, { type: "RuntimeDefault" });
      assert.ok(pod.volumes?.some((v) => v.name === "tmp" && v.emptyDir), `${w.metadata.name}: no emptyDir for /tmp`);
      for (const c of pod.containers) {
        assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${w.metadata.name}/${c.name}`);
        assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
        assert.deepEqual((c.securityContext?.capabilities as { drop: string[] }).drop, ["ALL"]);
      }
      if (w.kind === "Deployment") {
        assert.equal(pod.topologySpreadConstraints?.length, 2);
        assert.ok(((w.spec as { template: { spec: { terminationGracePeriodSeconds: number } } }).template.spec.terminationGracePeriodSeconds) >= 30);
      }
    }
    // TLS: the certificate Secret is mounted where POSTLINE_TLS_CERT/KEY point, in the TLS services only.
    for (const s of services) {
      const pod = podSpec(find(objects, "Deployment", `postline-${s}`));
      const tls = ["inbound-mx", "submission", "imap-pop3"].includes(s);
      assert.equal(pod.volumes?.find((v) => v.name === "tls")?.secret?.secretName, tls ? "postline-tls" : undefined, s);
      assert.equal(envOf(pod.containers[0]!).get("POSTLINE_TLS_CERT")?.value, tls ? "/etc/postline/tls/tls.crt" : undefined);
    }
  });

  it("existingSecret replaces the chart's Secret in every workload", () => {
    const own = renderObjects({ set: ["database.url=postgres://a:b@db/postline", "admin.token=0123456789abcdef0123"] });
    const secret = find(own, "Secret", "postline-secrets");
    assert.equal((secret.stringData as Record<string, string>).POSTLINE_ADMIN_TOKEN, "0123456789abcdef0123");

    const objects = renderObjects({ set: ["existingSecret=mail-secrets"] });
    assert.ok(!objects.some((o) => o.kind === "Secret"), "no Secret may be rendered with existingSecret");
    for (const s of services) {
      const env = envOf(podSpec(find(objects, "Deployment", `postline-${s}`)).containers[0]!);
      for (const key of ["POSTLINE_DATABASE_URL", "POSTLINE_S3_ACCESS_KEY", "POSTLINE_S3_SECRET_KEY", "POSTLINE_ADMIN_TOKEN"]) {
        assert.deepEqual(env.get(key)?.valueFrom?.secretKeyRef, { name: "mail-secrets", key }, `${s} ${key}`);
      }
    }
    assert.deepEqual(envOf(podSpec(find(objects, "Job", "postline-migrate")).containers[0]!).get("POSTLINE_DATABASE_URL")?.valueFrom?.secretKeyRef, { name: "mail-secrets", key: "POSTLINE_DATABASE_URL" });
  });

  it("NetworkPolicies: mail ports from anywhere, ops port from the monitoring namespace, egress port 25 only for delivery", () => {
    const objects = renderObjects();
    type Rule = { from?: Record<string, unknown>[]; to?: unknown[]; ports: { port: string | number; protocol: string }[] };
    const policy = (s: string) => find(objects, "NetworkPolicy", `postline-${s}`).spec as { ingress: Rule[]; egress: Rule[] };
    const mx = policy("inbound-mx");
    const open = mx.ingress.find((r) => r.from === undefined);
    assert.deepEqual(open?.ports.map((p) => p.port), ["smtp"]);
    const ops = mx.ingress.find((r) => r.ports.some((p) => p.port === "metrics"));
    assert.deepEqual(ops?.from, [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }]);
    const egressPorts = (s: string) => policy(s).egress.flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`));
    assert.ok(egressPorts("delivery").includes("TCP/25"));
    assert.ok(!egressPorts("inbound-mx").includes("TCP/25"));
    for (const s of services) for (const p of ["UDP/53", "TCP/53", "TCP/9092", "TCP/5432"]) assert.ok(egressPorts(s).includes(p), `${s} lacks egress ${p}`);
    assert.equal(policy("delivery").ingress.length, 1, "delivery takes no traffic but scrapes");
  });

  it("renders the PrometheusRule from files/prometheus-rules.yml and one dashboard ConfigMap per JSON file with the sidecar label", () => {
    const objects = renderObjects({ set: ["metrics.prometheusRule.enabled=true", "metrics.serviceMonitor.enabled=true"] });
    const rule = find(objects, "PrometheusRule", "postline").spec as { groups: { rules: { alert?: string; expr: string }[] }[] };
    const alerts = rule.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.ok(alerts.includes("PostlineServiceDown"), `alerts: ${alerts.join(", ")}`);
    const sm = find(objects, "ServiceMonitor", "postline").spec as { jobLabel: string; selector: { matchLabels: Record<string, string> } };
    const scraped = objects.filter((o) => o.kind === "Service" && Object.entries(sm.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v));
    assert.deepEqual(scraped.map((o) => o.metadata.labels?.[sm.jobLabel]).sort(), services.map((s) => `postline-${s}`).sort());

    const files = readdirSync(join(chartDir, "files/dashboards")).filter((f) => f.endsWith(".json"));
    const dashboards = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
    assert.equal(dashboards.length, files.length);
    for (const d of dashboards) {
      const [[key, json]] = Object.entries(d.data as Record<string, string>) as [[string, string]];
      assert.ok(files.includes(key));
      assert.equal(typeof (JSON.parse(json) as { title: string }).title, "string");
    }
  });

  it("prints NOTES with the first domain and user commands", () => {
    const notes = renderNotes({ set: ["database.url=postgres://a:b@db/p"] });
    assert.match(notes, /exec deploy\/postline-admin-api -- \\\n\s+node dist\/bin\/cli.mjs domain add example.com/);
    assert.match(notes, /dist\/bin\/cli.mjs user add alice@example.com/);
    assert.match(notes, /get secret postline-secrets -o jsonpath='\{\.data\.POSTLINE_ADMIN_TOKEN\}'/);
    assert.doesNotMatch(notes, /WARNING: no database URL/);
    assert.match(renderNotes(), /WARNING: no database URL/);
  });
});

describe("example dependency manifests in deploy/k8s", () => {
  it("are valid objects (Strimzi KRaft Kafka with a node pool, CloudNativePG Cluster, MinIO)", async () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml") && !f.startsWith("values-")).map((f) => join(examplesDir, f));
    const objects = readManifests(files);
    const errors: string[] = [];
    for (const o of objects) errors.push(...(await validateObject(o)));
    assert.deepEqual(errors, []);
    find(objects, "Kafka", "postline-kafka");
    assert.equal(find(objects, "KafkaNodePool", "dual-role").metadata.labels?.["strimzi.io/cluster"], "postline-kafka");
    find(objects, "Cluster", "postline-pg");
    find(objects, "Deployment", "postline-minio");
    find(objects, "Service", "postline-minio");
  });

  it("values-example.yaml points the chart at them", () => {
    const objects = renderObjects({ values: [join(examplesDir, "values-example.yaml")] });
    const env = find(objects, "ConfigMap", "postline-env").data as Record<string, string>;
    assert.equal(env.POSTLINE_KAFKA_BROKERS, "postline-kafka-kafka-bootstrap:9092");
    assert.equal(env.POSTLINE_S3_ENDPOINT, "http://postline-minio:9000");
    const dEnv = envOf(podSpec(find(objects, "Deployment", "postline-delivery")).containers[0]!);
    assert.deepEqual(dEnv.get("POSTLINE_DATABASE_URL")?.valueFrom?.secretKeyRef, { name: "postline-pg-app", key: "uri" });
    assert.deepEqual(dEnv.get("POSTLINE_S3_ACCESS_KEY")?.valueFrom?.secretKeyRef, { name: "postline-minio", key: "accessKey" });
    assert.match(template({ values: [join(examplesDir, "values-example.yaml")] }), /kind: Certificate/);
  });
});
