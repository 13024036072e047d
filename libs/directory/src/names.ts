import { domainToASCII } from "node:url";
import { InvalidInput } from "./errors.ts";

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// RFC 5322 atext, plus any non-ASCII character (RFC 6531, SMTPUTF8).
const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10FFFF}]+$/u;

/**
 * A domain name as we store it: lower-case A-labels (IDN U-labels are converted with UTS #46),
 * no trailing dot. Throws InvalidInput when it is not a usable mail domain.
 */
export function normalizeDomain(input: string): string {
  const trimmed = input.trim().replace(/\.$/, "");
  if (!trimmed) throw new InvalidInput("domain name is empty");
  const ascii = domainToASCII(trimmed);
  if (!ascii) throw new InvalidInput(`"${input}" is not a valid domain name`);
  const name = ascii.toLowerCase();
  if (name.length > 253) throw new InvalidInput(`domain name ${name} is longer than 253 characters`);
  const labels = name.split(".");
  for (const label of labels) {
    if (!LABEL.test(label)) throw new InvalidInput(`"${input}" is not a valid domain name (bad label "${label}")`);
  }
  // An all-numeric last label means an IP address, not a domain.
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw new InvalidInput(`"${input}" is an IP address, not a domain name`);
  return name;
}

/** Validates a dot-atom local part and lower-cases it. */
export function normalizeLocalPart(input: string): string {
  const local = input.toLowerCase();
  if (!local) throw new InvalidInput("local part is empty");
  if (Buffer.byteLength(local, "utf8") > 64) throw new InvalidInput(`local part "${input}" is longer than 64 octets`);
  for (const atom of local.split(".")) {
    if (!atom) throw new InvalidInput(`local part "${input}" has an empty dot-separated part`);
    if (!ATOM.test(atom)) throw new InvalidInput(`local part "${input}" contains characters not allowed in an address`);
  }
  return local;
}

export interface Address {
  localPart: string;
  domain: string;
  /** `localPart@domain`, lower-case, domain as A-labels. */
  address: string;
}

/** Parses and normalises `local@domain`. Throws InvalidInput. */
export function parseAddress(input: string): Address {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf("@");
  if (at <= 0 || at === trimmed.length - 1) throw new InvalidInput(`"${input}" is not an email address (expected local@domain)`);
  const localPart = normalizeLocalPart(trimmed.slice(0, at));
  const domain = normalizeDomain(trimmed.slice(at + 1));
  const address = `${localPart}@${domain}`;
  if (Buffer.byteLength(address, "utf8") > 254) throw new InvalidInput(`address ${address} is longer than 254 octets`);
  return { localPart, domain, address };
}

/** parseAddress, returning only the normalised string. */
export function normalizeAddress(input: string): string {
  return parseAddress(input).address;
}
