import { headerMap, parseStructuredValue } from "@postline/mime";

const WANTED = new Set(["auto-submitted", "content-type"]);

/**
 * True when a message announces itself as automatic and must never be answered with a DSN or auto-reply
 * ("never bounce a bounce"): `Auto-Submitted` with any value other than `no` (RFC 3834 §5), or a
 * `multipart/report` body (RFC 6522: DSNs, MDNs, feedback reports).
 */
export function isAutomatedMessage(headerSection: string): boolean {
  const fields = headerMap(Buffer.from(headerSection, "utf8"), WANTED);
  const autoSubmitted = fields.get("auto-submitted");
  if (autoSubmitted !== undefined) {
    const value = parseStructuredValue(autoSubmitted).value;
    if (value !== "" && value !== "no") return true;
  }
  const contentType = fields.get("content-type");
  return contentType !== undefined && parseStructuredValue(contentType).value === "multipart/report";
}
