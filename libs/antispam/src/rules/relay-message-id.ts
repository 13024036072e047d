import { messageIdHost, organizationalDomain } from "./address.ts";
import { providerOf } from "./providers.ts";
import type { Rule } from "./rule.ts";

/**
 * A mail program writes Message-ID with the other header fields, before the message leaves it,
 * so the field sits below every Received field. One found above a Received field was added by a
 * relay on the way: the program that wrote the message gave it none, as bulk tools often do.
 * Webmail writes the ID on the provider's server that also adds the first Received field, so an
 * ID in a big provider's own domain is left alone. SpamAssassin's MSGID_FROM_MTA_HEADER is the
 * same test. Inbound only: our submission service adds the ID our own users' programs leave out.
 */
export const relayMessageIdRule: Rule = {
  name: "relay-message-id",
  sources: ["inbound"],
  check({ content }) {
    const keys = (content.parsed.headerLines ?? []).map(({ key }) => key);
    const at = keys.indexOf("message-id");
    if (at < 0 || keys.lastIndexOf("received") < at) return [];
    const host = messageIdHost(content.parsed.messageId);
    if (host && providerOf(organizationalDomain(host))) return [];
    return [{ name: "MSGID_FROM_RELAY", detail: host ?? undefined }];
  },
};
