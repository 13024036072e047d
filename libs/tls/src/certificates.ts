import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { generate } from "selfsigned";
import type { Logger } from "@postline/telemetry";

export interface KeyPair {
  key: string;
  cert: string;
}

/** Throws when the pair is unusable (unparsable, or key and certificate do not belong together). */
export function checkKeyPair(pair: KeyPair): void {
  // OpenSSL drops a key that does not match the certificate without an error, and the handshakes
  // then fail: compare them ourselves.
  if (!new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))) {
    throw new Error("the private key does not belong to the certificate");
  }
  createSecureContext({ key: pair.key, cert: pair.cert });
}

export async function readKeyPair(certPath: string, keyPath: string): Promise<KeyPair> {
  const [cert, key] = await Promise.all([readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
  return { key, cert };
}

/** SHA-256 fingerprint of the (first) certificate in a PEM, as `AB:CD:…`. */
export function fingerprint256(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/** A new self-signed certificate for `hostname` (RSA 2048, SHA-256, valid for `days`). */
export async function selfSignedKeyPair(hostname: string, days = 825): Promise<KeyPair> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const pems = await generate([{ name: "commonName", value: hostname }], {
    keyType: "rsa",
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + days * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: hostname }] },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

const RENEW_BEFORE_MS = 30 * 86_400_000;

/**
 * Standalone mode without a configured certificate: `<dir>/<stem>-cert.pem` and `<dir>/<stem>-key.pem`,
 * generated on the first start (and again when they are about to expire or were made for another
 * host name), reused after that.
 */
export async function standaloneKeyPair(dir: string, hostname: string, logger: Logger, stem = "mx"): Promise<KeyPair> {
  const certPath = join(dir, `${stem}-cert.pem`);
  const keyPath = join(dir, `${stem}-key.pem`);
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const pair = { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
      checkKeyPair(pair);
      const x509 = new X509Certificate(pair.cert);
      if (Date.parse(x509.validTo) - Date.now() > RENEW_BEFORE_MS && x509.checkHost(hostname)) {
        logger.info({ cert: certPath }, "STARTTLS uses the self-signed certificate generated earlier (set POSTLINE_TLS_CERT and POSTLINE_TLS_KEY for a real one)");
        return pair;
      }
    } catch (err) {
      logger.warn({ err, cert: certPath }, "the self-signed certificate is unusable; generating a new one");
    }
  }
  const pair = await selfSignedKeyPair(hostname);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(keyPath, pair.key, { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  writeFileSync(certPath, pair.cert);
  logger.info(
    { cert: certPath, key: keyPath, hostname, fingerprint: fingerprint256(pair.cert) },
    "generated a self-signed certificate for STARTTLS (set POSTLINE_TLS_CERT and POSTLINE_TLS_KEY for a real one)",
  );
  return pair;
}

/**
 * Watches the certificate and key files by polling their content (robust against the symlink swap
 * that Kubernetes and cert-manager use, which fs.watch misses). A changed pair that is valid is
 * handed to `onChange`; a broken or half-written one (the certificate renewed, the key not yet) is
 * logged and the current pair stays in use until the next poll.
 */
export class CertificateWatcher {
  private timer: NodeJS.Timeout | undefined;
  private current: KeyPair;
  private checking = false;
  private lastBad: string | undefined;

  constructor(
    private readonly certPath: string,
    private readonly keyPath: string,
    initial: KeyPair,
    private readonly intervalMs: number,
    private readonly onChange: (pair: KeyPair) => void,
    private readonly onError: (err: unknown) => void,
  ) {
    this.current = initial;
  }

  start(): void {
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One poll; resolves true when a new pair was applied. */
  async check(): Promise<boolean> {
    if (this.checking) return false;
    this.checking = true;
    try {
      const pair = await readKeyPair(this.certPath, this.keyPath);
      if (pair.cert === this.current.cert && pair.key === this.current.key) return false;
      if (pair.cert + pair.key === this.lastBad) return false; // reported already
      try {
        checkKeyPair(pair);
      } catch (err) {
        this.lastBad = pair.cert + pair.key;
        throw err;
      }
      this.current = pair;
      this.onChange(pair);
      return true;
    } catch (err) {
      this.onError(err);
      return false;
    } finally {
      this.checking = false;
    }
  }
}
