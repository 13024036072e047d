import { isValidAddress, mailboxes } from "./address.ts";
import type { Rule } from "./rule.ts";

/** From must be present once and hold valid addresses (RFC 5322 3.6.2). */
export const fromInvalidRule: Rule = {
  name: "from-invalid",
  check({ content }) {
    const fields = content.parsed.headerLines.filter((h) => h.key === "from").length;
    if (fields === 0) return [{ name: "FROM_INVALID", detail: "no From header" }];
    if (fields > 1) return [{ name: "FROM_INVALID", detail: `${fields} From headers` }];
    const addresses = mailboxes(content.parsed.from);
    if (addresses.length === 0) return [{ name: "FROM_INVALID", detail: "no address" }];
    const bad = addresses.find((a) => !isValidAddress(a.address));
    return bad ? [{ name: "FROM_INVALID", detail: `invalid address ${JSON.stringify(bad.address ?? bad.name)}` }] : [];
  },
};
