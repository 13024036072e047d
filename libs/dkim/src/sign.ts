import { dkimSign } from "mailauth";
import type { SigningKey } from "./keys.ts";

/** The header fields signed (relaxed/relaxed); those the message lacks are left out of h=. */
export const SIGNED_HEADERS: readonly string[] = [
  "From",
  "Sender",
  "Reply-To",
  "Subject",
  "Date",
  "Message-ID",
  "To",
  "Cc",
  "In-Reply-To",
  "References",
  "MIME-Version",
  "Content-Type",
  "Content-Transfer-Encoding",
  "Content-Disposition",
  "Content-Language",
  "List-Id",
  "List-Help",
  "List-Subscribe",
  "List-Post",
  "List-Owner",
  "List-Archive",
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "Feedback-ID",
  "BIMI-Selector",
];

export interface SignOptions {
  /** The d= domain (the From domain for DMARC alignment). */
  domain: string;
  /** Signature time (t=); default now. */
  signTime?: Date;
}

export class DkimSignError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DkimSignError";
  }
}

/**
 * Signs `message` with every key (one DKIM-Signature per key, e.g. RSA-2048 and Ed25519 side by
 * side) and returns the message with the DKIM-Signature fields prepended. No keys: the message
 * unchanged. A key that cannot sign is an error (DkimSignError).
 */
export async function signMessage(message: Buffer, keys: SigningKey[], options: SignOptions): Promise<Buffer> {
  if (keys.length === 0) return message;
  // Always pass signTime. Without it mailauth 4.13.3 computes t= twice, each time as
  // Math.round(Date.now() / 1000): once for the DKIM-Signature field it hashes (b= empty) and
  // again for the field it emits after crypto.sign. When a half-second boundary passes between the
  // two (RSA-2048 signing takes ~1 ms, so ~1 signature in 300-1000), the emitted t= is one higher
  // than the signed one and every verifier reports "bad signature". With signTime, t= is computed
  // once and the same value is hashed and emitted.
  const signTime = options.signTime ?? new Date();
  const result = await dkimSign(message, {
    canonicalization: "relaxed/relaxed",
    // mailauth only honours headerList as a colon-separated string (its typings say string[], but
    // an array is silently replaced by mailauth's default field list).
    headerList: SIGNED_HEADERS.join(":"),
    signTime,
    signatureData: keys.map((k) => ({
      signingDomain: options.domain,
      selector: k.selector,
      privateKey: k.privateKey,
      algorithm: k.algorithm,
      canonicalization: "relaxed/relaxed",
    })),
  } as unknown as Parameters<typeof dkimSign>[1]);
  if (result.errors.length > 0) {
    const first = result.errors[0] as unknown as { err?: Error; selector?: string } | Error;
    const detail = "err" in first && first.err ? `${first.selector ?? "?"}: ${first.err.message}` : String((first as Error).message ?? first);
    throw new DkimSignError(`DKIM signing failed (${detail})`);
  }
  return Buffer.concat([Buffer.from(result.signatures, "utf8"), message]);
}
