import { fromDomain, organizationalDomain } from "./address.ts";
import { providerOf } from "./providers.ts";
import { receivedValues } from "./received.ts";
import type { Rule } from "./rule.ts";

/**
 * Mail from a big free-mail provider's address passes through that provider's servers, and each of
 * them adds a Received field naming itself. Bulk-mailing software that puts a free-mail address in
 * From sends from elsewhere, so no Received field names the provider. Replies and mailing-list
 * posts are left out: people once answered from a free-mail address through their own ISP's
 * server, and list servers may rewrite the chain. SpamAssassin's FORGED_HOTMAIL_RCVD,
 * FORGED_YAHOO_RCVD and the like check the same. Where the provider publishes DMARC, the
 * authentication rule says more; this needs no DNS. Inbound only: our own users' relay is ours.
 * The providers and their relays' names are in providers.ts.
 */
const REPLY_SUBJECT = /^\s*(?:re|fwd?|aw|sv|tr)\s*:/i;

export const freemailForgedRule: Rule = {
  name: "freemail-forged",
  sources: ["inbound"],
  check({ content }) {
    const domain = fromDomain(content.parsed.from);
    if (!domain) return [];
    const provider = providerOf(organizationalDomain(domain));
    if (!provider) return [];
    const { headers } = content.parsed;
    if (headers.has("in-reply-to") || headers.has("references") || headers.has("list") || REPLY_SUBJECT.test(content.parsed.subject ?? "")) return [];
    if (receivedValues(content).some((value) => provider.relays.test(value.toLowerCase()))) return [];
    return [{ name: "FORGED_FREEMAIL_RCVD", detail: domain }];
  },
};
