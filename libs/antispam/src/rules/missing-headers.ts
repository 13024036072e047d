import type { Rule } from "./rule.ts";

export const missingHeadersRule: Rule = {
  name: "missing-headers",
  check({ content }) {
    const headers = content.parsed.headers;
    return [
      ...(headers.has("date") ? [] : [{ name: "MISSING_DATE" }]),
      ...(headers.has("message-id") ? [] : [{ name: "MISSING_MESSAGE_ID" }]),
    ];
  },
};
