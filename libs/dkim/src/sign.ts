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
  "List-Unsubscribe",
  "List-Unsubscribe-Post",
  "Feedback-ID",
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
  const result = await dkimSign(message, {
    canonicalization: "relaxed/relaxed",
    headerList: [...SIGNED_HEADERS],
    ...(options.signTime ? { signTime: options.signTime } : {}),
    signatureData: keys.map((k) => ({
      signingDomain: options.domain,
      selector: k.selector,
      privateKey: k.privateKey,
      algorithm: k.algorithm,
      canonicalization: "relaxed/relaxed",
    })),
  } as Parameters<typeof dkimSign>[1]);
  if (result.errors.length > 0) {
    const first = result.errors[0] as unknown as { err?: Error; selector?: string } | Error;
    const detail = "err" in first && first.err ? `${first.selector ?? "?"}: ${first.err.message}` : String((first as Error).message ?? first);
    throw new DkimSignError(`DKIM signing failed (${detail})`);
  }
  return Buffer.concat([Buffer.from(result.signatures, "utf8"), message]);
}
