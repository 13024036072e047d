import { decodeSaslPlain } from "@postline/auth";
import type { Line } from "../line-reader.ts";
import { Maildrop } from "../maildrop.ts";
import type { Pop3Session } from "../session.ts";
import { plaintextAuthAllowed } from "./capa.ts";

const PLAINTEXT_REFUSED = "[AUTH] Plaintext authentication disallowed on non-secure connections; use STLS";

/** USER name: remembered for PASS. Always +OK, so it does not tell whether the name exists. */
export async function user(s: Pop3Session, args: string): Promise<void> {
  if (!plaintextAuthAllowed(s)) return s.err(PLAINTEXT_REFUSED);
  const name = args.trim();
  if (name === "") return s.bad("USER needs a name");
  s.user = name;
  await s.ok("Send your password");
}

/** PASS password: the rest of the line, spaces included (RFC 1939 7). */
export async function pass(s: Pop3Session, args: string): Promise<void> {
  if (!plaintextAuthAllowed(s)) return s.err(PLAINTEXT_REFUSED);
  const name = s.user;
  s.user = undefined;
  if (name === undefined) return s.bad("USER first");
  if (args === "") return s.bad("PASS needs a password");
  await login(s, name, args);
}

/** RFC 5034 AUTH: PLAIN with an initial response or after a "+ " continuation; "*" cancels. Without a mechanism, the list. */
export async function auth(s: Pop3Session, args: string): Promise<void> {
  const [mechanism, initial, ...extra] = args.trim().split(/ +/);
  if (!mechanism) {
    if (!plaintextAuthAllowed(s)) return s.multiline("No mechanisms before STLS", []);
    return s.multiline("Mechanisms follow", ["PLAIN"]);
  }
  if (mechanism.toUpperCase() !== "PLAIN" || extra.length > 0) return s.bad("Unsupported authentication mechanism");
  if (!plaintextAuthAllowed(s)) return s.err(PLAINTEXT_REFUSED);
  s.user = undefined;
  if (initial !== undefined) return plain(s, initial === "=" ? "" : initial);
  s.onSaslResponse = async (line: Line) => {
    if (line.overlong) return s.bad("SASL response too long");
    const response = line.text.toString("latin1").trim();
    if (response === "*") return s.err("Authentication cancelled");
    await plain(s, response);
  };
  await s.reply("+ ");
}

async function plain(s: Pop3Session, response: string): Promise<void> {
  const decoded = decodeSaslPlain(response);
  if (!decoded) return s.err("Malformed SASL PLAIN response");
  if (decoded.authzid !== "" && decoded.authzid.toLowerCase() !== decoded.authcid.toLowerCase()) {
    return s.err("[AUTH] Logging in as another user is not supported");
  }
  await login(s, decoded.authcid, decoded.password);
}

async function login(s: Pop3Session, name: string, password: string): Promise<void> {
  const result = await s.deps.authenticator.login(name, password, s.clientIp, "pop3");
  if (!result.ok) {
    s.deps.metrics.authFailures.inc({ reason: result.reason });
    if (result.reason === "throttled") {
      const seconds = Math.max(1, Math.ceil((result.retryAfterMs ?? 1000) / 1000));
      return s.err(`[SYS/TEMP] Too many failed logins; try again in ${seconds} seconds`);
    }
    if (result.reason === "disabled") return s.err("[AUTH] Account disabled");
    return s.err("[AUTH] Authentication failed");
  }
  let maildrop: Maildrop;
  try {
    maildrop = await Maildrop.open(s.deps.db, result.account.id);
  } catch (err) {
    s.logger.error({ err, account: result.account.address }, "pop3 cannot open the maildrop");
    return s.err("[SYS/TEMP] Cannot open the maildrop; try again later");
  }
  s.account = result.account;
  s.maildrop = maildrop;
  s.state = "transaction";
  s.logger.info({ account: result.account.address, messages: maildrop.messages.length }, "pop3 login");
  const { count, octets } = maildrop.stat();
  await s.ok(`Logged in; maildrop has ${count} messages (${octets} octets)`);
}

/** RFC 2595 STLS, before authentication only. */
export async function stls(s: Pop3Session, args: string): Promise<void> {
  if (args.trim() !== "") return s.bad("STLS takes no arguments");
  if (s.secure) return s.bad("Already using TLS");
  await s.startTls();
}
