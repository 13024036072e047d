export { CertificateWatcher, checkKeyPair, fingerprint256, readKeyPair, selfSignedKeyPair, standaloneKeyPair, type KeyPair } from "./certificates.ts";
export { certificateFor, type CertificateSettings, type ServerCertificate } from "./certificate-for.ts";
export { watchCertificateFiles, type WatchOptions } from "./watch.ts";
export { checkTlsFileSettings, listenerPort } from "./settings.ts";
export { certificateExpiryGauge, certificateNotAfter, recordCertificateExpiry, type CertificateExpiryTarget } from "./metrics.ts";
