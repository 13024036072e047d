import { fromDomain, organizationalDomain } from "./address.ts";
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
 */
const PROVIDERS: { domains: RegExp; relays: RegExp }[] = [
  { domains: /^(?:hotmail|msn|outlook|live|passport)\.[a-z.]+$/, relays: /hotmail|msn\.(?:com|net)|outlook\.com|live\.com|microsoft\.com/ },
  { domains: /^(?:yahoo|ymail|rocketmail)\.[a-z.]+$/, relays: /yahoo/ },
  // AOL's mail has been sent by Yahoo's servers since the two merged
  { domains: /^(?:aol|aim)\.com$/, relays: /\baol\.(?:com|net)|\baim\.com|yahoo/ },
  { domains: /^(?:gmail|googlemail)\.com$/, relays: /google|gmail/ },
  { domains: /^(?:gmx\.[a-z.]+|web\.de)$/, relays: /gmx\.|web\.de/ },
  { domains: /^(?:juno|netzero)\.(?:com|net)$/, relays: /juno\.com|netzero\.(?:com|net)|untd\.com/ },
  { domains: /^(?:earthlink|mindspring)\.(?:com|net)$/, relays: /earthlink|mindspring|elnk\.net/ },
  { domains: /^(?:mail|yandex)\.ru$/, relays: /mail\.ru|yandex/ },
];
const REPLY_SUBJECT = /^\s*(?:re|fwd?|aw|sv|tr)\s*:/i;

export const freemailForgedRule: Rule = {
  name: "freemail-forged",
  sources: ["inbound"],
  check({ content }) {
    const domain = fromDomain(content.parsed.from);
    if (!domain) return [];
    const provider = PROVIDERS.find((p) => p.domains.test(organizationalDomain(domain)));
    if (!provider) return [];
    const { headers } = content.parsed;
    if (headers.has("in-reply-to") || headers.has("references") || headers.has("list") || REPLY_SUBJECT.test(content.parsed.subject ?? "")) return [];
    if (receivedValues(content).some((value) => provider.relays.test(value.toLowerCase()))) return [];
    return [{ name: "FORGED_FREEMAIL_RCVD", detail: domain }];
  },
};
