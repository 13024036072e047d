import { getDomain } from "tldts";
import type { AddressObject, EmailAddress } from "mailparser";

/** Every mailbox of an address header, groups flattened. */
export function mailboxes(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.flatMap((a) => (a.group ? a.group : [a])));
}

/** The domain of the (first) From address, lower-cased; null without one. */
export function fromDomain(from: AddressObject | AddressObject[] | undefined): string | null {
  return domainOfAddress(mailboxes(from)[0]?.address);
}

export function domainOfAddress(address: string | undefined): string | null {
  if (!address) return null;
  const at = address.lastIndexOf("@");
  return at > 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase().replace(/\.$/, "") : null;
}

/** The host after the `@` of a Message-ID, lower-cased, without a trailing dot; null without one. */
export function messageIdHost(messageId: string | undefined): string | null {
  return /@([^@>\s]+)>?\s*$/.exec(messageId ?? "")?.[1]?.toLowerCase().replace(/\.$/, "") ?? null;
}

/** The registrable (organizational) domain, e.g. `mail.example.co.uk` → `example.co.uk`. */
export function organizationalDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: true }) ?? domain.toLowerCase();
}

const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const validAddress = new RegExp(`^[^\\s@"]+@(?:${label}\\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$`);

export function isValidAddress(address: string | undefined): boolean {
  return address !== undefined && validAddress.test(address);
}

/** The organizational domains of a list's own addresses: the mailto: of its List-* fields (RFC 2369) and its List-Id (RFC 2919), from mailparser's "list" value. */
export function listDomains(list: unknown): string[] {
  if (typeof list !== "object" || list === null) return [];
  const domains: string[] = [];
  for (const [field, value] of Object.entries(list as Record<string, { mail?: unknown; id?: unknown; name?: unknown } | undefined>)) {
    const mailDomain = typeof value?.mail === "string" ? domainOfAddress(value.mail) : null;
    if (mailDomain) domains.push(organizationalDomain(mailDomain));
    // List-Id: list-label "." namespace, e.g. "users.lists.example.org"; mailparser puts a bare
    // "<users.lists.example.org>" (no phrase) in `name`, not `id`
    const id = field === "id" ? (value?.id ?? (typeof value?.name === "string" && /^[\w.-]+\.[a-z]{2,}$/i.test(value.name) ? value.name : undefined)) : undefined;
    if (typeof id === "string" && id.includes(".")) domains.push(organizationalDomain(id.toLowerCase()));
  }
  return domains;
}
