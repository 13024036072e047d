import { domainOfAddress, mailboxes, organizationalDomain } from "./address.ts";
import type { Rule } from "./rule.ts";

/** Replies diverted to another organization than the apparent sender: typical of fraud. */
export const replyToMismatchRule: Rule = {
  name: "reply-to-mismatch",
  check({ content }) {
    const fromDomain = domainOfAddress(mailboxes(content.parsed.from)[0]?.address);
    if (!fromDomain) return [];
    const fromOrg = organizationalDomain(fromDomain);
    for (const replyTo of mailboxes(content.parsed.replyTo)) {
      const domain = domainOfAddress(replyTo.address);
      if (domain && organizationalDomain(domain) !== fromOrg) {
        return [{ name: "REPLYTO_DOMAIN_MISMATCH", detail: `${fromDomain} vs ${domain}` }];
      }
    }
    return [];
  },
};
