import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { InvalidInput } from "./errors.ts";

// OWASP password storage recommendation for argon2id: 19 MiB, 2 passes, 1 lane.
const ARGON2ID = 2 as Algorithm;
export const PASSWORD_HASH_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;

export function validatePassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new InvalidInput(`password must be at least ${MIN_PASSWORD_LENGTH} characters long`);
  if (password.length > MAX_PASSWORD_LENGTH) throw new InvalidInput(`password must be at most ${MAX_PASSWORD_LENGTH} characters long`);
}

/** argon2id hash in PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$…`). */
export async function hashPassword(password: string): Promise<string> {
  validatePassword(password);
  return hash(password, PASSWORD_HASH_OPTIONS);
}

/** True when `password` matches the PHC hash; false for a wrong password or an unreadable hash. */
export async function checkPasswordHash(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** Spends the time of one verification so that unknown users take as long as wrong passwords. */
export async function burnVerification(password: string): Promise<void> {
  dummyHash ??= hash("postline-timing-equaliser", PASSWORD_HASH_OPTIONS);
  await checkPasswordHash(await dummyHash, password);
}
