const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The SASL PLAIN message (RFC 4616) `[authzid] NUL authcid NUL passwd`, base64-encoded as IMAP
 * AUTHENTICATE and POP3 AUTH carry it. null when it is not strict base64, not UTF-8, not exactly
 * three fields, or the login name or password is empty.
 */
export function decodeSaslPlain(base64: string): { authzid: string; authcid: string; password: string } | null {
  const text = base64.trim();
  if (text.length === 0 || !BASE64.test(text)) return null;
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(text, "base64"));
  } catch {
    return null;
  }
  const fields = decoded.split("\0");
  if (fields.length !== 3) return null;
  const [authzid, authcid, password] = fields as [string, string, string];
  if (authcid.length === 0 || password.length === 0) return null;
  return { authzid, authcid, password };
}
