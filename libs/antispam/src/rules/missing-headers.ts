import type { Rule } from "./rule.ts";

/** A MIME body other than plain text declares MIME-Version (RFC 2045 §4); mail programs always write it, some bulk software forgets. */
function mimeWithoutVersion(headers: Map<string, unknown>): boolean {
  if (headers.has("mime-version")) return false;
  const contentType = headers.get("content-type") as { value?: unknown } | undefined;
  const type = typeof contentType?.value === "string" ? contentType.value.toLowerCase() : "";
  return type !== "" && type !== "text/plain";
}

export const missingHeadersRule: Rule = {
  name: "missing-headers",
  check({ content }) {
    const headers = content.parsed.headers;
    return [
      ...(headers.has("date") ? [] : [{ name: "MISSING_DATE" }]),
      ...(headers.has("message-id") ? [] : [{ name: "MISSING_MESSAGE_ID" }]),
      ...(mimeWithoutVersion(headers) ? [{ name: "MISSING_MIME_VERSION" }] : []),
    ];
  },
};
