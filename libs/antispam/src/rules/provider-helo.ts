import { providerOf, type MailProvider } from "./providers.ts";
import { relayHopsBelowTop } from "./received.ts";
import type { Rule } from "./rule.ts";

/**
 * A relay's client greeted as a big provider's bare domain (HELO yahoo.com, hotmail.com) but its
 * reverse name is not one of that provider's relays, or it has none: bulk software borrowing a
 * trusted name. The providers' own servers that greet that way (Hotmail's did) have their
 * provider's reverse names; a hop received by the provider's own server is a customer's mail
 * program submitting, and those greet with anything. The topmost field, our own, is left out as
 * elsewhere; inbound only.
 */
const isProviders = (provider: MailProvider, host: string | null) => host !== null && provider.relays.test(host);

export const providerHeloRule: Rule = {
  name: "provider-helo",
  sources: ["inbound"],
  check({ content }) {
    for (const hop of relayHopsBelowTop(content)) {
      const provider = providerOf(hop.helo);
      if (!provider || isProviders(provider, hop.reverseName) || isProviders(provider, hop.by)) continue;
      return [{ name: "FORGED_PROVIDER_HELO", detail: `HELO ${hop.helo} from ${hop.reverseName ?? hop.ip ?? "unknown"}` }];
    }
    return [];
  },
};
