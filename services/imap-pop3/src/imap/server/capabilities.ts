/**
 * What the server advertises, by session state (RFC 9051 6.1.1, 7.2.2).
 *
 * Before authentication only what a client needs to log in: the protocol versions, STARTTLS while the
 * connection is in the clear, and either AUTH=PLAIN (once TLS protects the session, or with
 * POSTLINE_IMAP_ALLOW_PLAINTEXT_AUTH on loopback) or LOGINDISABLED. After authentication the
 * full list, sent again in the tagged OK of LOGIN/AUTHENTICATE.
 */
export interface CapabilityState {
  authenticated: boolean;
  tls: boolean;
  /** Plaintext authentication is allowed without TLS on this connection. */
  plaintextAuthAllowed: boolean;
  appendLimit: number;
}

const ALWAYS = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "SASL-IR", "ID", "ENABLE", "IDLE"];

const AUTHENTICATED = [
  "NAMESPACE",
  "UIDPLUS",
  "MOVE",
  "CONDSTORE",
  "QRESYNC",
  "SPECIAL-USE",
  "CREATE-SPECIAL-USE",
  "UNSELECT",
  "CHILDREN",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "ESEARCH",
  "SEARCHRES",
  "BINARY",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "STATUS=SIZE",
];

/** Extensions a client may ENABLE (RFC 5161), upper-cased. */
export const ENABLEABLE = new Set(["CONDSTORE", "QRESYNC", "IMAP4REV2"]);

export function capabilities(state: CapabilityState): string[] {
  const caps = [...ALWAYS];
  if (!state.authenticated) {
    if (!state.tls) caps.push("STARTTLS");
    if (state.tls || state.plaintextAuthAllowed) caps.push("AUTH=PLAIN");
    else caps.push("LOGINDISABLED");
    return caps;
  }
  caps.push(...AUTHENTICATED, `APPENDLIMIT=${state.appendLimit}`);
  return caps;
}

export function capabilityLine(state: CapabilityState): string {
  return capabilities(state).join(" ");
}

/** The session's side of CAPABILITY: a session may allow plaintext authentication (loopback + setting). */
export interface PlaintextAuthFlag {
  readonly plaintextAuthAllowed?: boolean;
}

/** The capabilities of a session in its current state. */
export function sessionCapabilities(ctx: { state: string; tls: boolean; settings: { appendLimit: number } } & PlaintextAuthFlag): string {
  return capabilityLine({
    authenticated: ctx.state === "authenticated" || ctx.state === "selected",
    tls: ctx.tls,
    plaintextAuthAllowed: ctx.plaintextAuthAllowed === true,
    appendLimit: ctx.settings.appendLimit,
  });
}
