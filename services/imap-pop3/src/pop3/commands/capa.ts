import type { Pop3Session } from "../session.ts";

/** Password logins are offered before TLS only when POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH allows it. */
export function plaintextAuthAllowed(s: Pop3Session): boolean {
  return s.secure || s.deps.settings.allowPlaintextAuth;
}

/** RFC 2449 CAPA. Login mechanisms and STLS are listed in the AUTHORIZATION state only. */
export async function capa(s: Pop3Session, args: string): Promise<void> {
  if (args.trim() !== "") return s.bad("CAPA takes no arguments");
  const caps = ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"];
  if (s.state === "authorization") {
    if (plaintextAuthAllowed(s)) caps.push("USER", "SASL PLAIN");
    if (!s.secure) caps.push("STLS");
  }
  caps.push("IMPLEMENTATION Postline");
  await s.multiline("Capability list follows", caps);
}
