import { X509Certificate } from "node:crypto";
import { Gauge, type Registry } from "prom-client";

/** Where a listener's certificate expiry goes: one series per listener name (a few per service). */
export interface CertificateExpiryTarget {
  registry: Registry;
  /** The service, e.g. "inbound-mx". */
  service: string;
  /** The listeners serving this certificate, e.g. ["submission", "submissions"]. */
  listeners: string[];
}

export function certificateExpiryGauge(registry: Registry): Gauge<"service" | "listener"> {
  const name = "postline_tls_certificate_expiry_timestamp_seconds";
  return (
    (registry.getSingleMetric(name) as Gauge<"service" | "listener"> | undefined) ??
    new Gauge({
      name,
      help: "notAfter of the certificate a TLS listener currently serves, in seconds since the epoch",
      labelNames: ["service", "listener"],
      registers: [registry],
    })
  );
}

/** notAfter of the (first) certificate in a PEM, in seconds since the epoch. */
export function certificateNotAfter(certPem: string): number {
  return Math.floor(Date.parse(new X509Certificate(certPem).validTo) / 1000);
}

/** Sets the expiry gauge of every listener of `target` to the notAfter of `certPem`. */
export function recordCertificateExpiry(target: CertificateExpiryTarget, certPem: string): void {
  const gauge = certificateExpiryGauge(target.registry);
  const notAfter = certificateNotAfter(certPem);
  for (const listener of target.listeners) gauge.set({ service: target.service, listener }, notAfter);
}
