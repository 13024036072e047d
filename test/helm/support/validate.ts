import type { K8sObject } from "./helm.ts";

/**
 * Offline validation of rendered objects.
 *
 * Built-in kinds go through the `kubernetes-models` class of their apiVersion/kind, whose
 * `.validate()` checks the object against the Kubernetes OpenAPI schema bundled in the package
 * (types, enums, required fields; unknown fields are NOT rejected by those schemas). Custom
 * resources (Prometheus Operator, KEDA, cert-manager, Strimzi, CloudNativePG) have no bundled
 * schema here: `crdChecks` checks their apiVersion, kind and the fields their CRDs require, by hand.
 * On top of both, `apiServerRules` checks what the API server enforces beyond the OpenAPI schema
 * (name, label and port-name formats).
 */
export async function validateObject(o: K8sObject): Promise<string[]> {
  const id = `${o.kind}/${o.metadata?.name}`;
  const errors = apiServerRules(o).map((e) => `${id}: ${e}`);
  const crd = crdChecks[`${o.apiVersion} ${o.kind}`];
  if (crd) {
    errors.push(...crd(o).map((e) => `${id}: ${e}`));
    return errors;
  }
  let Model: (new (data: unknown) => { validate(): void }) | undefined;
  try {
    const mod = (await import(`kubernetes-models/${o.apiVersion}/${o.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
    Model = mod[o.kind];
  } catch {
    Model = undefined;
  }
  if (!Model) return [...errors, `${id}: no schema for ${o.apiVersion} ${o.kind} (neither kubernetes-models nor a CRD check)`];
  try {
    new Model(o).validate();
  } catch (err) {
    errors.push(`${id}: ${(err as Error).message}`);
  }
  return errors;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function walk(value: unknown, visit: (key: string, v: unknown, parent: Record<string, unknown>) => void): void {
  if (Array.isArray(value)) for (const v of value) walk(v, visit);
  else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) {
      visit(k, v, value);
      walk(v, visit);
    }
  }
}

/** What the API server enforces beyond the OpenAPI schema, for the fields this chart uses. */
export function apiServerRules(o: K8sObject): string[] {
  const errors: string[] = [];
  const name = o.metadata?.name;
  if (typeof name !== "string" || !name) return ["metadata.name is missing"];
  if (o.kind === "Service") {
    if (!DNS1035_LABEL.test(name) || name.length > 63) errors.push(`Service name ${name} is not a DNS-1035 label of at most 63 characters`);
  } else if (!DNS1123_SUBDOMAIN.test(name) || name.length > 253) {
    errors.push(`name ${name} is not a DNS-1123 subdomain`);
  }
  if (["Deployment", "Job"].includes(o.kind) && name.length > 63) errors.push(`${o.kind} name ${name} longer than 63 characters (pod labels)`);
  const labelMaps: Record<string, unknown>[] = [];
  walk(o, (key, v, parent) => {
    if ((key === "labels" || key === "matchLabels") && isRecord(v)) labelMaps.push(v);
    if (key === "ports" && Array.isArray(v)) {
      for (const p of v) {
        if (isRecord(p) && typeof p.name === "string" && (p.name.length > 15 || !PORT_NAME.test(p.name))) errors.push(`port name ${p.name} is not an IANA service name`);
      }
    }
    if (key === "env" && Array.isArray(v) && "image" in parent) {
      for (const e of v) if (isRecord(e) && (typeof e.name !== "string" || !ENV_NAME.test(e.name))) errors.push(`bad env var name ${String(e.name)}`);
    }
  });
  for (const labels of labelMaps) {
    for (const [k, v] of Object.entries(labels)) {
      if (!QUALIFIED_NAME.test(k) || k.split("/").pop()!.length > 63) errors.push(`label key ${k} is invalid`);
      if (typeof v !== "string" || v.length > 63 || !LABEL_VALUE.test(v)) errors.push(`label ${k}=${String(v)} has an invalid value`);
    }
  }
  for (const [k, v] of Object.entries(o.metadata.annotations ?? {})) {
    if (!QUALIFIED_NAME.test(k)) errors.push(`annotation key ${k} is invalid`);
    if (typeof v !== "string") errors.push(`annotation ${k} is not a string`);
  }
  if (o.kind === "ConfigMap" || o.kind === "Secret") {
    for (const section of ["data", "stringData"]) {
      const data = (o as Record<string, unknown>)[section];
      if (data === undefined) continue;
      if (!isRecord(data)) errors.push(`${section} is not a map`);
      else for (const [k, v] of Object.entries(data)) if (typeof v !== "string") errors.push(`${section}.${k} is not a string`);
    }
  }
  return errors;
}

type Check = (o: K8sObject) => string[];

function need(errors: string[], cond: unknown, message: string): void {
  if (!cond) errors.push(message);
}

const isStringMap = (v: unknown) => v === undefined || (isRecord(v) && Object.values(v).every((x) => typeof x === "string"));
const DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w|y))+$/;

function spec(o: K8sObject): Record<string, unknown> {
  return isRecord(o.spec) ? o.spec : {};
}

/** Required fields and types of the custom resources used, from their CRDs' schemas. */
export const crdChecks: Record<string, Check> = {
  "monitoring.coreos.com/v1 ServiceMonitor": (o) => {
    const e: string[] = [];
    const s = spec(o);
    need(e, isRecord(s.selector), "spec.selector (required) must be a LabelSelector");
    need(e, Array.isArray(s.endpoints) && s.endpoints.length > 0, "spec.endpoints must be a non-empty list");
    for (const ep of (s.endpoints as unknown[]) ?? []) {
      need(e, isRecord(ep) && (typeof ep.port === "string" || ep.targetPort !== undefined), "each endpoint needs port (a Service port name) or targetPort");
      if (isRecord(ep)) for (const k of ["interval", "scrapeTimeout"]) need(e, ep[k] === undefined || (typeof ep[k] === "string" && DURATION.test(ep[k] as string)), `endpoint ${k} must be a duration`);
    }
    need(e, s.jobLabel === undefined || typeof s.jobLabel === "string", "spec.jobLabel must be a string");
    return e;
  },
  "monitoring.coreos.com/v1 PrometheusRule": (o) => {
    const e: string[] = [];
    const groups = spec(o).groups;
    need(e, Array.isArray(groups) && groups.length > 0, "spec.groups must be a non-empty list");
    for (const g of (groups as unknown[]) ?? []) {
      if (!isRecord(g)) { e.push("a group is not an object"); continue; }
      need(e, typeof g.name === "string" && g.name, "group.name (required) must be a non-empty string");
      need(e, Array.isArray(g.rules), `group ${String(g.name)}: rules must be a list`);
      for (const r of (g.rules as unknown[]) ?? []) {
        if (!isRecord(r)) { e.push("a rule is not an object"); continue; }
        need(e, typeof r.expr === "string" || typeof r.expr === "number", `rule ${String(r.alert ?? r.record)}: expr (required) missing`);
        need(e, (typeof r.alert === "string") !== (typeof r.record === "string"), "each rule has exactly one of alert and record");
        need(e, r.for === undefined || (typeof r.for === "string" && DURATION.test(r.for)), `rule ${String(r.alert)}: for must be a duration`);
        need(e, isStringMap(r.labels) && isStringMap(r.annotations), `rule ${String(r.alert ?? r.record)}: labels and annotations must be string maps`);
      }
    }
    return e;
  },
  "keda.sh/v1alpha1 ScaledObject": (o) => {
    const e: string[] = [];
    const s = spec(o);
    need(e, isRecord(s.scaleTargetRef) && typeof s.scaleTargetRef.name === "string", "spec.scaleTargetRef.name (required) missing");
    need(e, Array.isArray(s.triggers) && s.triggers.length > 0, "spec.triggers (required) must be a non-empty list");
    for (const t of (s.triggers as unknown[]) ?? []) {
      need(e, isRecord(t) && typeof t.type === "string", "trigger.type (required) missing");
      need(e, isRecord(t) && isRecord(t.metadata) && isStringMap(t.metadata), "trigger.metadata (required) must map to strings");
    }
    for (const k of ["minReplicaCount", "maxReplicaCount", "pollingInterval", "cooldownPeriod"]) need(e, s[k] === undefined || Number.isInteger(s[k]), `spec.${k} must be an integer`);
    return e;
  },
  "cert-manager.io/v1 Certificate": (o) => {
    const e: string[] = [];
    const s = spec(o);
    need(e, typeof s.secretName === "string" && s.secretName, "spec.secretName (required) missing");
    need(e, isRecord(s.issuerRef) && typeof s.issuerRef.name === "string", "spec.issuerRef.name (required) missing");
    need(e, Array.isArray(s.dnsNames) && s.dnsNames.every((d) => typeof d === "string"), "spec.dnsNames must be a list of strings");
    for (const k of ["duration", "renewBefore"]) need(e, s[k] === undefined || (typeof s[k] === "string" && /^([0-9.]+(h|m|s|ms))+$/.test(s[k] as string)), `spec.${k} must be a Go duration`);
    return e;
  },
  "kafka.strimzi.io/v1beta2 Kafka": (o) => {
    const e: string[] = [];
    const kafka = spec(o).kafka;
    need(e, isRecord(kafka), "spec.kafka (required) missing");
    if (isRecord(kafka)) {
      need(e, Array.isArray(kafka.listeners) && kafka.listeners.length > 0, "spec.kafka.listeners (required) must be a non-empty list");
      for (const l of (kafka.listeners as unknown[]) ?? []) {
        need(e, isRecord(l) && typeof l.name === "string" && Number.isInteger(l.port) && typeof l.type === "string" && typeof l.tls === "boolean", "listener needs name, port, type and tls");
      }
    }
    need(e, o.metadata.annotations?.["strimzi.io/kraft"] === "enabled" && o.metadata.annotations?.["strimzi.io/node-pools"] === "enabled", "KRaft needs the strimzi.io/kraft and strimzi.io/node-pools annotations set to enabled");
    need(e, spec(o).zookeeper === undefined, "a KRaft cluster has no spec.zookeeper");
    return e;
  },
  "kafka.strimzi.io/v1beta2 KafkaNodePool": (o) => {
    const e: string[] = [];
    const s = spec(o);
    need(e, Number.isInteger(s.replicas), "spec.replicas (required) must be an integer");
    need(e, Array.isArray(s.roles) && s.roles.length > 0 && s.roles.every((r) => r === "controller" || r === "broker"), "spec.roles (required) must list controller and/or broker");
    need(e, isRecord(s.storage) && typeof s.storage.type === "string", "spec.storage.type (required) missing");
    need(e, typeof o.metadata.labels?.["strimzi.io/cluster"] === "string", "the strimzi.io/cluster label names the Kafka cluster");
    return e;
  },
  "postgresql.cnpg.io/v1 Cluster": (o) => {
    const e: string[] = [];
    const s = spec(o);
    need(e, Number.isInteger(s.instances) && (s.instances as number) >= 1, "spec.instances (required) must be an integer >= 1");
    need(e, isRecord(s.storage) && typeof s.storage.size === "string", "spec.storage.size must be a quantity string");
    return e;
  },
};
