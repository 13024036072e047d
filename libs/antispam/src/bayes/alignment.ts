import type { ParsedMail } from "mailparser";
import { domainOfAddress, listDomains, mailboxes, messageIdHost, organizationalDomain } from "../rules/address.ts";

/**
 * Alignment features (`al:`): whether the domains a message names agree with its From domain —
 * the Message-ID's, the links', the relays' (Received below the topmost), Reply-To's, Sender's,
 * the list's, an address in the display name. Unlike the domains themselves (`fd:`, `ud:`, `rd:`),
 * which say nothing about a sender the model has never seen, these relations carry over to new
 * senders: a newsletter whose Message-ID, links and relays all sit in its own domain looks like
 * every other such newsletter, and a spam with a borrowed From looks like other spam.
 *
 * `linkHosts` are the hosts of the message's links, `relayHosts` the hosts named in its Received
 * fields below the topmost.
 */
export function alignmentTokens(parsed: ParsedMail, linkHosts: readonly string[], relayHosts: readonly string[]): string[] {
  const from = mailboxes(parsed.from)[0];
  const fromHost = domainOfAddress(from?.address);
  if (!fromHost) return ["al:no-from"];
  const org = organizationalDomain(fromHost);
  const out: string[] = [];
  const relation = (what: string, domain: string | null) => {
    if (domain === null) out.push(`al:${what}:none`);
    else out.push(`al:${what}:${domain === fromHost ? "host" : organizationalDomain(domain) === org ? "org" : "other"}`);
  };

  const midHost = messageIdHost(parsed.messageId);
  relation("mid", midHost && midHost.includes(".") ? midHost : null);
  if (midHost && !midHost.includes(".")) out.push("al:mid:bare-host");

  const linkDomains = linkHosts.map(organizationalDomain);
  if (linkDomains.length === 0) out.push("al:links:none");
  else {
    const own = linkDomains.filter((d) => d === org).length;
    out.push(`al:links:${own === linkDomains.length ? "all-own" : own > 0 ? "some-own" : "no-own"}`);
    const distinct = new Set(linkDomains).size;
    out.push(`al:link-domains:${distinct === 1 ? "1" : distinct <= 3 ? "2-3" : "4+"}`);
  }

  const relayOrgs = new Set(relayHosts.map(organizationalDomain));
  if (relayOrgs.size === 0) out.push("al:relays:none");
  else {
    out.push(`al:relays:${relayOrgs.has(org) ? "from" : "no-from"}`);
    if (midHost && midHost.includes(".")) out.push(`al:relays-mid:${relayOrgs.has(organizationalDomain(midHost)) ? "yes" : "no"}`);
  }

  for (const replyTo of mailboxes(parsed.replyTo).slice(0, 1)) relation("reply-to", domainOfAddress(replyTo.address));
  const sender = parsed.headers.get("sender");
  if (sender && typeof sender === "object" && "value" in sender) relation("sender", domainOfAddress(mailboxes(sender as never)[0]?.address));
  const lists = listDomains(parsed.headers.get("list"));
  if (lists.length > 0) out.push(`al:list:${lists.includes(org) ? "from" : "other"}`);

  const nameAddress = /[\w.+-]+@([a-z0-9-]+(?:\.[a-z0-9-]+)+)/i.exec(from?.name ?? "")?.[1];
  if (nameAddress) out.push(`al:name-address:${organizationalDomain(nameAddress.toLowerCase()) === org ? "same" : "other"}`);
  return out;
}
