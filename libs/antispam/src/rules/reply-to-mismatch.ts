import { domainOfAddress, fromDomain, mailboxes, organizationalDomain } from "./address.ts";
import type { Rule } from "./rule.ts";

/**
 * Replies diverted to another organization than the apparent sender: typical of fraud. A mailing
 * list that sets Reply-To to itself (the domain of a List-* address or of its List-Id) is not a diversion:
 * that was 488 of the 490 hits on the spam benchmark's TRAIN ham (docs/spam-filter.md).
 */
export const replyToMismatchRule: Rule = {
  name: "reply-to-mismatch",
  check({ content }) {
    const sender = fromDomain(content.parsed.from);
    if (!sender) return [];
    const expected = new Set([organizationalDomain(sender), ...listDomains(content.parsed.headers.get("list"))]);
    for (const replyTo of mailboxes(content.parsed.replyTo)) {
      const domain = domainOfAddress(replyTo.address);
      if (domain && !expected.has(organizationalDomain(domain))) {
        return [{ name: "REPLYTO_DOMAIN_MISMATCH", detail: `${sender} vs ${domain}` }];
      }
    }
    return [];
  },
};

/** The organizational domains of a list's own addresses: the mailto: of its List-* fields (RFC 2369) and its List-Id (RFC 2919), from mailparser's "list" value. */
function listDomains(list: unknown): string[] {
  if (typeof list !== "object" || list === null) return [];
  const domains: string[] = [];
  for (const [field, value] of Object.entries(list as Record<string, { mail?: unknown; id?: unknown } | undefined>)) {
    const mailDomain = typeof value?.mail === "string" ? domainOfAddress(value.mail) : null;
    if (mailDomain) domains.push(organizationalDomain(mailDomain));
    // List-Id: list-label "." namespace, e.g. "users.lists.example.org"
    if (field === "id" && typeof value?.id === "string" && value.id.includes(".")) domains.push(organizationalDomain(value.id.toLowerCase()));
  }
  return domains;
}
