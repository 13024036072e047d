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

/** The registrable (organizational) domain, e.g. `mail.example.co.uk` → `example.co.uk`. */
export function organizationalDomain(domain: string): string {
  return getDomain(domain, { allowPrivateDomains: true }) ?? domain.toLowerCase();
}

const label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
const validAddress = new RegExp(`^[^\\s@"]+@(?:${label}\\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$`);

export function isValidAddress(address: string | undefined): boolean {
  return address !== undefined && validAddress.test(address);
}
