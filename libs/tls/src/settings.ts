import { ConfigError, type PlatformConfig } from "@postline/config";

/** POSTLINE_TLS_CERT and POSTLINE_TLS_KEY come as a pair: one without the other stops the service. */
export function checkTlsFileSettings(s: { POSTLINE_TLS_CERT?: string; POSTLINE_TLS_KEY?: string }): void {
  if (Boolean(s.POSTLINE_TLS_CERT) !== Boolean(s.POSTLINE_TLS_KEY)) {
    const missing = s.POSTLINE_TLS_CERT ? "POSTLINE_TLS_KEY" : "POSTLINE_TLS_CERT";
    throw new ConfigError(missing, "is required when the other one of POSTLINE_TLS_CERT/POSTLINE_TLS_KEY is set");
  }
}

/**
 * A listener's port: the configured one, else the protocol's standard port — or, in standalone
 * mode as a normal user (ports below 1024 need root), that port + 1000 (1143, 1587, …).
 */
export function listenerPort(configured: number | undefined, standard: number, config?: Pick<PlatformConfig, "POSTLINE_MODE">): number {
  if (configured !== undefined) return configured;
  const unprivileged = config?.POSTLINE_MODE === "standalone" && process.getuid?.() !== 0;
  return unprivileged ? standard + 1000 : standard;
}
