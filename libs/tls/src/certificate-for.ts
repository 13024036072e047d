import { join } from "node:path";
import type { PlatformConfig } from "@postline/config";
import type { Logger } from "@postline/telemetry";
import { recordCertificateExpiry, type CertificateExpiryTarget } from "./metrics.ts";
import { checkKeyPair, fingerprint256, readKeyPair, selfSignedKeyPair, standaloneKeyPair, type KeyPair } from "./certificates.ts";

export interface CertificateSettings {
  certPath?: string;
  keyPath?: string;
  hostname: string;
  /** File name stem of the generated standalone pair in `<data>/tls/` (e.g. "mx", "imap"). */
  stem: string;
  /** Records the certificate's notAfter (postline_tls_certificate_expiry_timestamp_seconds), at load and on every reload. */
  expiry?: CertificateExpiryTarget;
}

export interface ServerCertificate {
  pair: KeyPair;
  /** Set when the pair came from configured files (watch them with CertificateWatcher). */
  files?: { certPath: string; keyPath: string };
  /** Where watchCertificateFiles records the expiry of a reloaded pair. */
  expiry?: CertificateExpiryTarget;
}

/**
 * A listener's certificate: the configured files; in standalone mode without them, a self-signed one
 * kept in `<data>/tls/`; in cluster mode without them, a self-signed one made at start-up (TLS still
 * encrypts; the log says a real certificate should be configured).
 */
export async function certificateFor(settings: CertificateSettings, config: PlatformConfig, logger: Logger): Promise<ServerCertificate> {
  const cert = await loadCertificate(settings, config, logger);
  if (settings.expiry) {
    recordCertificateExpiry(settings.expiry, cert.pair.cert);
    cert.expiry = settings.expiry;
  }
  return cert;
}

async function loadCertificate(settings: CertificateSettings, config: PlatformConfig, logger: Logger): Promise<ServerCertificate> {
  if (settings.certPath && settings.keyPath) {
    const files = { certPath: settings.certPath, keyPath: settings.keyPath };
    const pair = await readKeyPair(files.certPath, files.keyPath);
    checkKeyPair(pair);
    logger.info({ cert: files.certPath, fingerprint: fingerprint256(pair.cert) }, "TLS certificate loaded");
    return { pair, files };
  }
  if (config.POSTLINE_MODE === "standalone") {
    return { pair: await standaloneKeyPair(join(config.POSTLINE_DATA_DIR, "tls"), settings.hostname, logger, settings.stem) };
  }
  logger.warn("no POSTLINE_TLS_CERT/POSTLINE_TLS_KEY: TLS uses a self-signed certificate made at start-up");
  return { pair: await selfSignedKeyPair(settings.hostname) };
}
