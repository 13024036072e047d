import { domainOfAddress, fromDomain, listDomains, mailboxes, organizationalDomain } from "./address.ts";
import type { Rule } from "./rule.ts";

/**
 * Replies diverted to another organization than the apparent sender: typical of fraud. A mailing
 * list that sets Reply-To to itself (the domain of a List-* address or of its List-Id) is not a diversion:
 * that was 488 of the 490 hits on the spam benchmark's TRAIN ham (docs/spam-benchmark.md stage 11).
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
