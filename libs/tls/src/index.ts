export { CertificateWatcher, checkKeyPair, fingerprint256, readKeyPair, selfSignedKeyPair, standaloneKeyPair, type KeyPair } from "./certificates.ts";
export { certificateFor, type CertificateSettings, type ServerCertificate } from "./certificate-for.ts";
