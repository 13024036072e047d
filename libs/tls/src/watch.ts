import type { Logger } from "@postline/telemetry";
import { CertificateWatcher, fingerprint256, type KeyPair } from "./certificates.ts";
import type { ServerCertificate } from "./certificate-for.ts";
import { recordCertificateExpiry } from "./metrics.ts";

export interface WatchOptions {
  intervalMs: number;
  logger: Logger;
  /** Counts reloads by result ("ok", "failed"), e.g. a prom-client Counter with a `result` label. */
  reloads: { inc(labels: { result: "ok" | "failed" }): void };
  /** Puts a new, checked pair into service. */
  apply(pair: KeyPair): void;
}

/**
 * Starts watching a certificate that came from files (nothing to watch for a generated one): a
 * valid new pair is applied and logged; an unusable one (half-written) is logged and the current
 * pair stays. Returns the watcher to stop, or undefined.
 */
export function watchCertificateFiles(cert: ServerCertificate, o: WatchOptions): CertificateWatcher | undefined {
  const files = cert.files;
  if (!files) return undefined;
  const watcher = new CertificateWatcher(
    files.certPath,
    files.keyPath,
    cert.pair,
    o.intervalMs,
    (pair) => {
      o.apply(pair);
      if (cert.expiry) recordCertificateExpiry(cert.expiry, pair.cert);
      o.reloads.inc({ result: "ok" });
      o.logger.info({ cert: files.certPath, fingerprint: fingerprint256(pair.cert) }, "TLS certificate reloaded");
    },
    (err) => {
      o.reloads.inc({ result: "failed" });
      o.logger.warn({ err, cert: files.certPath }, "TLS certificate files changed but are not usable (yet); keeping the current certificate");
    },
  );
  watcher.start();
  return watcher;
}
